begin;
set search_path to dbt_fabio, public;
select * from dbt_fabio.a;;
select * from other.b; select 1 from dbt_fabio.c
;
commit
