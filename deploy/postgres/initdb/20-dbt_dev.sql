-- Runs after 10-analytics.sql (the production schema "analytics", built by `dbt build --target prod` of the
-- jaffle_shop example, mounted from cmd/deferproxy/demodata/prod.sql so it always matches the production manifest
-- the proxy is given).
--
-- The developer may read production and owns the dev schema "dbt_dev". Only one model is built in dev,
-- stg_customers, changed since production ran (names upper-cased): a dev run of `customers` through the proxy reads
-- this dev stg_customers and defers stg_orders and stg_payments, which do not exist in dbt_dev, to analytics.
GRANT USAGE ON SCHEMA analytics TO dbt;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO dbt;

CREATE SCHEMA dbt_dev AUTHORIZATION dbt;
CREATE TABLE dbt_dev.stg_customers AS
SELECT id AS customer_id, upper(first_name) AS first_name, upper(last_name) AS last_name
FROM analytics.raw_customers;
ALTER TABLE dbt_dev.stg_customers OWNER TO dbt;
