alter table "postgres"."dbt_fabio"."customers" rename to "customers__dbt_backup";
alter table "postgres"."dbt_fabio"."customers__dbt_tmp" rename to "customers";
drop table if exists "postgres"."dbt_fabio"."customers__dbt_backup" cascade;
drop view if exists dbt_fabio.a, "dbt_fabio"."B" , dbt_fabio . c;
alter view dbt_fabio.stg set schema analytics;
