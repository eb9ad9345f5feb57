select order_id, customer_id, amount, amount * 2 as amount_doubled from {{ ref('stg_orders') }}
