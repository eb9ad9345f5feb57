// a line comment naming from ANALYTICS.DBT_FABIO.x;
select 'it\'s from a.b; really', $$ from c.d; $$, "Mixed"."Case".tbl, "we""ird".t
from "Mixed"."Case".tbl, "we""ird".t /* from e.f; */
where v:path.field = 1 and x = $1 and y = :bind;
copy into ANALYTICS.DBT_FABIO.loaded from @ANALYTICS.RAW.stage/path/ (file_format => 'csv');
select t.$1, t.$2 from @%orders t;
select * from table(flatten(input => parse_json('[1]'))) f, ANALYTICS.RAW.events e;
with recursive r as (select 1 as n union all select n + 1 from r where n < 3) select * from r, ANALYTICS.RAW.nums;
