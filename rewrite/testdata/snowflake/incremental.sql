create or replace  temporary view db.dbt_dev.events__dbt_tmp
  
  
  
  as (
    select * from db.dbt_dev.stg_events
    where ts > (select max(ts) from db.dbt_dev.events)
  );
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.events"} */;
=====
describe table db.dbt_dev.events__dbt_tmp
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.events"} */;
=====
describe table "DB"."DBT_DEV"."STG_EVENTS"
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.events"} */;
=====
-- back compat for old kwarg name
  
  begin;
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.events"} */;
=====
merge into db.dbt_dev.events as DBT_INTERNAL_DEST
        using db.dbt_dev.events__dbt_tmp as DBT_INTERNAL_SOURCE
        on (
                DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id
            )

    
    when matched then update set
        "ID" = DBT_INTERNAL_SOURCE."ID","TS" = DBT_INTERNAL_SOURCE."TS"
    

    when not matched then insert
        ("ID", "TS")
    values
        ("ID", "TS")

;
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.events"} */;
=====
insert overwrite into db.dbt_dev.events_full select * from db.dbt_dev.stg_events
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.events_full"} */;
=====
drop view if exists db.dbt_dev.events__dbt_tmp cascade
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.events"} */;
=====
alter table db.dbt_dev.orders__dbt_tmp rename to db.dbt_dev.orders
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.orders"} */;
=====
alter table db.dbt_dev.orders swap with db.dbt_dev.orders__dbt_backup
/* {"app": "dbt", "dbt_version": "1.11.16", "profile_name": "snowcheck", "target_name": "dev", "node_id": "model.snowcheck.orders"} */;
