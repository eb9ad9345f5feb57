-- select * from dbt_fabio.in_a_comment
/* from dbt_fabio.in_block /* nested dbt_fabio.x */ still comment */
select 'from dbt_fabio.in_string' as a, $q$ dbt_fabio.in_dollar $q$ as b, E'dbt_fabio.\'esc' as c,
       "dbt_fabio.not_a_schema" as d
from dbt_fabio.real_one
where note = 'dbt_fabio.x' -- trailing dbt_fabio.y
