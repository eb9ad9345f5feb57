drop schema if exists dbt_fabio_old, "Analytics" cascade;
alter schema dbt_fabio rename to dbt_fabio_2;
alter schema analytics owner to fabio;
grant select on all tables in schema analytics, dbt_fabio to reporter;
revoke usage on schema /* 'schema' */ analytics from public;
grant usage on schema "schema" to analytics;
create schema if not exists dbt_fabio
