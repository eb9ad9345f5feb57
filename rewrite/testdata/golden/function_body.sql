create or replace function dbt_fabio.f() returns int language sql as $$ select count(*) from dbt_fabio.orders $$;
do $$ begin perform * from dbt_fabio.orders; end $$;
create function g() returns bigint language sql begin atomic select count(*) from dbt_fabio.orders; end
