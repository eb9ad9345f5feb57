{% snapshot customers_snapshot %}
{{ config(unique_key='customer_id', strategy='check', check_cols='all') }}
select customer_id, first_name, last_name from {{ ref('stg_customers') }}
{% endsnapshot %}
