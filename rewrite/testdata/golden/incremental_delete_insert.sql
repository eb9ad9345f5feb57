create temporary table "fct_orders__dbt_tmp2024" as (
    select o.*, c.region
    from "postgres"."dbt_fabio"."stg_orders" o
    join dbt_fabio.dim_customers c on c.id = o.customer_id
    where o.updated_at > (select max(updated_at) from "postgres"."dbt_fabio"."fct_orders")
);
delete from "postgres"."dbt_fabio"."fct_orders"
    where (order_id) in (
        select (order_id)
        from "fct_orders__dbt_tmp2024"
    );
insert into "postgres"."dbt_fabio"."fct_orders" ("order_id", "region")
    (
        select "order_id", "region"
        from "fct_orders__dbt_tmp2024"
    )
