{% snapshot orders_snapshot %}
{{ config(target_schema=target.schema ~ '_snapshots', unique_key='order_id', strategy='check', check_cols='all') }}
select order_id, customer_id, status, amount from {{ ref('stg_orders') }}
{% endsnapshot %}
