/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "jaffle_shop", "target_name": "dev", "node_id": "model.jaffle_shop.customers"} */

  
    

  create  table "postgres"."dbt_fabio"."customers__dbt_tmp"
  
  
    as
  
  (
    with customers as (
    select * from "postgres"."dbt_fabio"."stg_customers"
),
orders as (
    select * from "postgres"."dbt_fabio"."stg_orders"
),
payments as (
    select * from "postgres"."dbt_fabio"."stg_payments"
),
customer_orders as (
        select
        customer_id,
        min(order_date) as first_order,
        max(order_date) as most_recent_order,
        count(order_id) as number_of_orders
    from orders
    group by customer_id
)
select customers.customer_id, customer_orders.first_order
from customers
left join customer_orders using (customer_id)
left join payments on payments.customer_id = customers.customer_id
  );
  
