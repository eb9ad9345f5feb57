-- Reads an aliased model: its relation is dim_customers, not dim_customers_model.
select segment, count(*) as customers from {{ ref('dim_customers_model') }} group by 1
