-- The developer's dev schema "dbt_demo" of the demo: only one model has been built in dev, stg_customers, and the
-- developer changed it (names upper-cased) since production ran. Every other model exists only in production
-- ("analytics"), so reads of dbt_demo.<model> are deferred there by the proxy. Loaded by `deferproxy demo`.
CREATE SCHEMA dbt_demo;
CREATE TABLE dbt_demo.stg_customers AS
SELECT id AS customer_id, upper(first_name) AS first_name, upper(last_name) AS last_name
FROM analytics.raw_customers;
