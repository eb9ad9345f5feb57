-- Statements pg_query (PostgreSQL 16) cannot parse: the lexer still reads their names.
SELECT * FROM JSON_TABLE(jsonb '[1]', '$[*]' COLUMNS (a int PATH '$')) jt, prod.s;
MERGE INTO dev.t USING prod.s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING merge_action(), t.*;
select * from prod.orders where id = :order_id and region = :'region';
select * from prod.orders o join prod.customers c on o.cid = c.id where o.total > ;
create table dev.broken as select * from prod.s where (x;
