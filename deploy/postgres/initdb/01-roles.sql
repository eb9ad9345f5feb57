-- Run by the postgres image's entrypoint (docker-entrypoint-initdb.d) in database "jaffle" on first start.
-- "dbt" is the developer's login: it builds into its dev schema and reads production.
CREATE ROLE dbt LOGIN PASSWORD 'dbt';
