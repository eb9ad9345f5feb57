-- Custom schema (+schema: marts): prod analytics_marts, dev dbt_dev_marts.
select c.customer_id, c.first_name, coalesce(o.total, 0) as total
from {{ ref('stg_customers') }} as c
left join {{ ref('customer_orders') }} as o on o.customer_id = c.customer_id
