{{ config(materialized='view', alias=var('stg_orders_alias', 'orders_staged')) }}
select id as order_id, customer_id, status, amount from {{ ref('raw_orders') }}
