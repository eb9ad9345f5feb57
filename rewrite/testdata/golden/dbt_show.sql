/* {"app": "dbt", "node_id": "sql_operation.shop.inline_query"} */
select * from (
        select * from dbt_fabio.customers where number_of_orders > $1
    ) as model_limit_subq
    limit 10
