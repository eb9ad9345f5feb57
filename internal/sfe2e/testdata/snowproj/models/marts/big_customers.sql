{{ config(materialized='table', alias='whales') }}
select customer_id, name, total from {{ ref('customer_totals') }} where total > 1
