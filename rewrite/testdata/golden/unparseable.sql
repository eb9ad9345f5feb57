select * from dbt_fabio.orders where {{ this_is_jinja }}
