show terse schemas in database db
    limit 10000
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "connection_name": "list_db"} */;
=====
show objects in db.dbt_dev limit 10000
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "connection_name": "list_db_dbt_dev"} */;
=====
create schema if not exists db.dbt_dev
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "connection_name": "create_db_dbt_dev"} */;
=====
create table db.dbt_dev.raw_customers (id integer,name text)
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "seed.snowcheck.raw_customers"} */;
=====
BEGIN
=====
insert into db.dbt_dev.raw_customers (id, name) values
            ('1','alice'),('2','bob'),('3','carol')
=====
COMMIT
