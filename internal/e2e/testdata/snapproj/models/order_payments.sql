select p.order_id, sum(p.amount) as paid, max(s.dbt_valid_from) is not null as snapshotted
from {{ ref('raw_payments') }} p
left join {{ ref('payments_snapshot') }} s on s.id = p.id and s.dbt_valid_to is null
group by p.order_id
