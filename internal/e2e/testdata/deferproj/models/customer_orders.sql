select customer_id, first_name, count(*) as orders, sum(amount) as total
from {{ ref('eph_orders_enriched') }}
group by 1, 2
