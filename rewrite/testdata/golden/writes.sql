grant select on table dbt_fabio.customers, analytics.orders to reporter;
comment on table "postgres"."dbt_fabio"."customers" is 'from dbt_fabio.stg';
comment on column dbt_fabio.customers.id is 'key';
create index if not exists "idx_1" on "dbt_fabio"."customers" (id);
refresh materialized view dbt_fabio.mv;
lock table dbt_fabio.customers in access exclusive mode;
copy dbt_fabio.customers from stdin;
copy (select * from dbt_fabio.customers) to stdout;
copy dbt_fabio.orders to stdout;
create table dbt_fabio.t2 (like dbt_fabio.t1, ref int references dbt_fabio.parent (id));
select * into dbt_fabio.snap from dbt_fabio.customers;
explain analyze insert into dbt_fabio.t select * from dbt_fabio.s;
prepare q(int) as select * from dbt_fabio.customers where id = $1;
create materialized view dbt_fabio.mv2 as select * from dbt_fabio.orders;
update dbt_fabio.t set x = s.x from dbt_fabio.s where s.id = t.id;
delete from dbt_fabio.t using dbt_fabio.s where s.id = t.id;
select * from dbt_fabio.t for update of t
