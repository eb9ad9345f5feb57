-- dbt_utils.star introspects the columns of the (deferred) relation: SPEC §5.5.
select {{ dbt_utils.star(from=ref('dim_customers_model'), except=['segment']) }}
from {{ ref('dim_customers_model') }}
