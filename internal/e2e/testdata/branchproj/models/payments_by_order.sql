select order_id, count(*) as payments, sum(amount) as amount from {{ ref('stg_payments') }} group by order_id
