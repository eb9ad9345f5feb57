select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
      from "postgres".INFORMATION_SCHEMA.columns
      where table_name = 'stg_orders'
        and table_schema = 'dbt_fabio'
      order by ordinal_position;
select 'postgres' as database, tablename as name, schemaname as schema, 'table' as type from pg_tables where schemaname ilike 'dbt_fabio';
select * from pg_catalog.pg_namespace
