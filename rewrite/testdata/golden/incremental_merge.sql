/* {"app": "dbt", "node_id": "model.shop.fct_orders"} */
merge into "postgres"."dbt_fabio"."fct_orders" as DBT_INTERNAL_DEST
    using "fct_orders__dbt_tmp123456" as DBT_INTERNAL_SOURCE
    on (
        DBT_INTERNAL_SOURCE.order_id = DBT_INTERNAL_DEST.order_id
    )
    when matched then update set
        "order_id" = DBT_INTERNAL_SOURCE."order_id","amount" = DBT_INTERNAL_SOURCE."amount"
    when not matched then insert
        ("order_id", "amount")
    values
        ("order_id", "amount")
