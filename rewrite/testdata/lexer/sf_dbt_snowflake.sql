create or replace transient table ANALYTICS.DBT_FABIO.orders
         as
        (with orders as (
    select * from ANALYTICS.DBT_FABIO.stg_orders
),
payments as (
    select * from ANALYTICS.DBT_FABIO.stg_payments
)
select o.order_id, p.amount
from orders o
left join payments p on o.order_id = p.order_id
        );
create or replace temporary view ANALYTICS.DBT_FABIO.events__dbt_tmp
  as (
    select * from ANALYTICS.RAW.events
    where ts > (select max(ts) from ANALYTICS.DBT_FABIO.events)
  );
merge into ANALYTICS.DBT_FABIO.events as DBT_INTERNAL_DEST
        using ANALYTICS.DBT_FABIO.events__dbt_tmp as DBT_INTERNAL_SOURCE
        on (
                DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id
            )
    when matched then update set
        DBT_INTERNAL_DEST."ID" = DBT_INTERNAL_SOURCE."ID",DBT_INTERNAL_DEST."TS" = DBT_INTERNAL_SOURCE."TS"
    when not matched then insert
        ("ID", "TS")
    values
        ("ID", "TS");
drop view if exists ANALYTICS.DBT_FABIO.events__dbt_tmp cascade;
insert into ANALYTICS.DBT_FABIO.raw_customers (id, first_name) values
            (%s,%s),(%s,%s);
describe table ANALYTICS.DBT_FABIO.orders;
show terse objects in schema ANALYTICS.DBT_FABIO limit 10000;
select * from identifier('ANALYTICS.DBT_FABIO.orders') limit 100;
alter table ANALYTICS.DBT_FABIO.orders__dbt_tmp rename to ANALYTICS.DBT_FABIO.orders;
grant select on ANALYTICS.DBT_FABIO.orders to role REPORTER;
drop schema if exists ANALYTICS.DBT_FABIO_PR_123 cascade;
grant usage on schema ANALYTICS.DBT_FABIO to role REPORTER;
