-- Asks dbt's adapter whether the upstream relation exists (as macros that branch on load_relation/get_relation do).
-- Native defer hands the macro the production relation (found); through the proxy dbt renders the dev relation, which
-- does not exist (README, "Differences from native defer", item 2). The ref in the FROM is deferred either way.
{% set upstream = ref('stg_orders') %}
{% set found = adapter.get_relation(database=upstream.database, schema=upstream.schema, identifier=upstream.identifier) %}
select {{ 'true' if found is not none else 'false' }} as upstream_found, count(*) as orders
from {{ upstream }}
