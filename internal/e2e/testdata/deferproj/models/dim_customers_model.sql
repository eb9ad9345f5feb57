{{ config(alias='dim_customers') }}
select customer_id, first_name, last_name, segment from {{ ref('stg_customers') }}
