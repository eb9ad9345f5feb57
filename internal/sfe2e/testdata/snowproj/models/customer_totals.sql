{{ config(materialized='table') }}
select c.id as customer_id, c.name, coalesce(sum(o.amount), 0) as total
from {{ ref('raw_customers') }} c
left join {{ ref('stg_orders') }} o on o.customer_id = c.id
group by c.id, c.name
