select 'ünïcödé → ok' as s, * from "dbt_fabio"."kündenübersicht" k join dbt_fabio.größe g on g.id = k.id join "dbt_fabio"."表" t on true
