/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "jaffle_shop", "target_name": "dev", "node_id": "model.jaffle_shop.orders"} */

  
    

  create  table "postgres"."dbt_fabio"."orders__dbt_tmp"
  
  
    as
  
  (
    with orders as (
    select * from "postgres"."dbt_fabio"."stg_orders"
),
payments as (
    select * from "postgres"."dbt_fabio"."stg_payments"
),
order_payments as (
    select order_id, sum(amount) as total_amount -- from payments p
    from payments
    group by order_id
)
select orders.order_id, order_payments.total_amount
from orders
left join order_payments on orders.order_id = order_payments.order_id
  );
alter table "postgres"."dbt_fabio"."orders" rename to "orders__dbt_backup";
alter table "postgres"."dbt_fabio"."orders__dbt_tmp" rename to "orders";
drop table if exists "postgres"."dbt_fabio"."orders__dbt_backup" cascade;

-- an incremental model (merge strategy)
merge into "postgres"."dbt_fabio"."events" as DBT_INTERNAL_DEST
using "events__dbt_tmp170000000" as DBT_INTERNAL_SOURCE
on (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)
when matched then update set "id" = DBT_INTERNAL_SOURCE."id", "ts" = DBT_INTERNAL_SOURCE."ts"
when not matched then insert ("id", "ts") values ("id", "ts");

-- a seed
insert into "postgres"."dbt_fabio"."raw_customers" (id, first_name, last_name) values
(%s,%s,%s),(%s,%s,%s);

-- a snapshot
update "postgres"."snapshots"."orders_snapshot"
    set dbt_valid_to = DBT_INTERNAL_SOURCE.dbt_valid_to
    from "orders_snapshot__dbt_tmp" as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_SOURCE.dbt_scd_id::text = "postgres"."snapshots"."orders_snapshot".dbt_scd_id::text;

-- a test
select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
select id as unique_field, count(*) as n_records
from "postgres"."dbt_fabio"."customers"
where id is not null
group by id
having count(*) > 1
    ) dbt_internal_test;

-- dbt show
select * from (
  select * from "postgres"."dbt_fabio"."customers"
) as __preview_sbq__ limit 5;

-- adapter.get_columns_in_relation
select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
      from "postgres".INFORMATION_SCHEMA.columns
      where table_name = 'customers' and table_schema = 'dbt_fabio'
      order by ordinal_position;

-- list_relations_without_caching
select 'postgres' as database, tablename as name, schemaname as schema, 'table' as type
    from pg_tables where schemaname ilike 'dbt_fabio'
    union all
    select 'postgres' as database, viewname as name, schemaname as schema, 'view' as type
    from pg_views where schemaname ilike 'dbt_fabio';

-- dbt run-operation drop_schema / grants

drop schema if exists "dbt_fabio_pr_123" cascade;

grant usage on schema "dbt_fabio" to "reporter";
