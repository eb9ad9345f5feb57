-- Reads both versions of a versioned model (relations fct_orders_v1 and fct_orders_v2).
select 'v2' as version, count(*) as n, sum(amount_doubled) as total from {{ ref('fct_orders') }}
union all
select 'v1', count(*), sum(amount) from {{ ref('fct_orders', v=1) }}
