/* {"app": "dbt", "dbt_version": "1.11.16", "node_id": "model.jaffle_shop.stg_orders"} */

  create view "postgres"."dbt_fabio"."stg_orders__dbt_tmp"
    
    
  as (
    with source as (
    select * from "postgres"."dbt_fabio"."raw_orders"
),
renamed as (
    select id as order_id, user_id as customer_id, order_date, status
    from source
)
select * from renamed
  );
