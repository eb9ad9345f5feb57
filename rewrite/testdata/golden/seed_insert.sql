truncate table "postgres"."dbt_fabio"."raw_customers";
insert into "postgres"."dbt_fabio"."raw_customers" (id, first_name, last_name) values
            (1,'Michael','P.'),(2,'Shawn','M.'),(3,'Kathleen','P.')
