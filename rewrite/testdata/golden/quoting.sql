select * from "dbt_fabio"."Order Items" oi
join DBT_FABIO.Customers c on true
join "dbt_fabio"."select" s on true
join dbt_fabio."weird""name" w on true
join "dev"   .  "dbt_fabio" /* why */ . stg_x  x on true
join dbt_fabio.t$1 d on true
join dbt_fabio."123abc" n on true
