{% snapshot payments_snapshot %}
{{ config(unique_key='id', strategy='check', check_cols='all') }}
select id, order_id, amount from {{ ref('raw_payments') }}
{% endsnapshot %}
