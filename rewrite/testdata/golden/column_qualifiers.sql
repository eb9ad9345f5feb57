select dbt_fabio.orders.id, "dbt_fabio"."orders".amount, dev.dbt_fabio.orders.*, other.orders.id
from dbt_fabio.orders join other.orders using (id)
where dbt_fabio.orders.id in (select dbt_fabio.orders.id from dbt_fabio.orders);
update dbt_fabio.t set x = dbt_fabio.s.x from dbt_fabio.s where dbt_fabio.s.id = dbt_fabio.t.id
