select distinct customer_id, 'customer ' || customer_id as name from {{ ref('raw_orders') }}
