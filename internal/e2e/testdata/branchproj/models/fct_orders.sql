select order_id, status, amount * 2 as amount_doubled from {{ ref('stg_orders') }}
