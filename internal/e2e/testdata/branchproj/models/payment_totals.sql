select order_id, sum(amount) as paid from {{ ref('raw_payments') }} group by order_id
