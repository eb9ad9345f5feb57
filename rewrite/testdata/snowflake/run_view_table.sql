create or replace   view db.dbt_dev.stg_orders
  
  
  
  as (
    select order_id, customer_id, amount from db.dbt_dev.raw_orders
  );
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.stg_orders"} */;
=====
create or replace transient table db.dbt_dev.customer_totals
    
    
    
    as (select c.id as customer_id, c.name, coalesce(sum(o.amount), 0) as total
from db.dbt_dev.raw_customers c
left join db.dbt_dev.stg_orders o on o.customer_id = c.id
group by 1, 2
    )
;
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.customer_totals"} */;
=====
select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
    

select customer_id
from db.dbt_dev.customer_totals
where customer_id is null



      
    ) dbt_internal_test
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "test.snowcheck.not_null_customer_totals_customer_id.1"} */;
=====
select * from (
        select c.id, o.amount from db.dbt_dev.raw_customers c join db.dbt_dev.stg_orders o on o.customer_id = c.id
    ) as __dbt_sbq
    where false
    limit 0

/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.customer_totals"} */;
