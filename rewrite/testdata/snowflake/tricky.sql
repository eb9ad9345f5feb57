select 'from db.dbt_dev.stg_orders', $$ db.dbt_dev.stg_orders $$ // from db.dbt_dev.stg_orders
, 'it\'s db.dbt_dev.x' from db.dbt_dev.stg_orders -- db.dbt_dev.stg_orders

/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.a"} */;
=====
select * from "DB"."DBT_DEV"."STG_ORDERS" o join DB.DBT_DEV.RAW_CUSTOMERS c on o.customer_id = c.id
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.b"} */;
=====
select * from db."dbt_dev".stg_orders, db.dbt_dev."Mixed Case", db.dbt_dev."MIXED_UPPER"
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.c"} */;
=====
select dbt_dev.stg_orders.amount from dbt_dev.stg_orders
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.d"} */;
=====
select * from db..stg_orders, db.dbt_dev.stg_orders.amount_fn(1)
=====
select * from identifier('db.dbt_dev.stg_orders'); create or replace table identifier('db.analytics.stg_orders') as (select 1)
=====
show columns in table db.dbt_dev.stg_orders; show objects in db.dbt_dev limit 10000; show terse objects in schema db.dbt_dev; use schema db.dbt_dev
=====
select src:dbt_dev.stg_orders, t.$1 from @db.dbt_dev.stage/db.dbt_dev.stg_orders t, db.dbt_dev.stg_orders s where s.x = ? and s.y = :b
