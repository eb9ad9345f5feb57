select order_id, count(*) as versions, max(amount) as amount
from {{ ref('orders_snapshot') }}
group by order_id
