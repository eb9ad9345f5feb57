{{ config(materialized='ephemeral') }}
-- The second link of the ephemeral chain: both CTEs are inlined into customer_orders.
select o.order_id, o.amount, c.customer_id, c.first_name
from {{ ref('eph_orders') }} as o
join {{ ref('stg_customers') }} as c on c.customer_id = o.customer_id
