{#- dbt_utils.get_column_values asks adapter.get_relation first: natively the deferred ref names production, which
    exists; through the proxy dbt's listing of dbt_dev lacks stg_payments, so the default ([]) is used. -#}
{%- set methods = dbt_utils.get_column_values(ref('stg_payments'), 'method', order_by='method', default=[]) -%}
select order_id
{%- for m in methods %}, sum(case when method = '{{ m }}' then amount else 0 end) as {{ m }}_amount{% endfor %}
from {{ ref('stg_payments') }}
group by order_id
