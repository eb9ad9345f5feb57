package rewrite

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lexUpdate tells whether -update was given. The flag is registered by the package's golden test; it is looked up
// here rather than declared twice.
func lexUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// describeRef renders a reference compactly: role, the text of its span, its normalised parts, quoted parts marked.
func describeRef(sql string, r Reference) string {
	norm := make([]string, len(r.Normalized))
	for i, n := range r.Normalized {
		if r.Quoted[i] {
			n = `"` + n + `"`
		}
		norm[i] = n
	}
	return fmt.Sprintf("%s %s => %s", r.Role, sql[r.Start:r.End], strings.Join(norm, "."))
}

// describeAnalysis renders a whole analysis, one line per statement and one per reference.
func describeAnalysis(sql string, a *Analysis) string {
	var b strings.Builder
	for i, st := range a.Statements {
		flags := ""
		if st.DDL {
			flags += " ddl"
		}
		if st.CatalogQuery {
			flags += " catalog"
		}
		fmt.Fprintf(&b, "statement %d [%d:%d] %s%s\n", i, st.Start, st.End, st.Kind, flags)
		for _, r := range st.References {
			fmt.Fprintf(&b, "  %s\n", describeRef(sql, r))
		}
		for _, q := range st.Qualifiers {
			fmt.Fprintf(&b, "  qualifier %s\n", describeRef(sql, q))
		}
		for _, q := range st.Schemas {
			fmt.Fprintf(&b, "  schema %s\n", describeRef(sql, q))
		}
	}
	return b.String()
}

func TestLexAnalyze(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		sql     string
		kind    string
		refs    []string
	}{
		// PostgreSQL shapes.
		{"select qualified", Postgres, `select * from analytics.orders o join "Dev"."Stg Orders" s on o.id = s.id`, "SELECT",
			[]string{`read analytics.orders => analytics.orders`, `read "Dev"."Stg Orders" => "Dev"."Stg Orders"`}},
		{"unqualified reads left out", Postgres, `select * from orders, public.customers`, "SELECT",
			[]string{`read public.customers => public.customers`}},
		{"three parts folded", Postgres, `SELECT 1 FROM Dev.DBT_Fabio.Stg_Orders`, "SELECT",
			[]string{`read Dev.DBT_Fabio.Stg_Orders => dev.dbt_fabio.stg_orders`}},
		{"mixed quoting", Postgres, `select * from "dev".dbt_fabio."stg_orders"`, "SELECT",
			[]string{`read "dev".dbt_fabio."stg_orders" => "dev".dbt_fabio."stg_orders"`}},
		{"escaped quote", Postgres, `select * from "we""ird".t`, "SELECT",
			[]string{`read "we""ird".t => "we"ird".t`}},
		{"utf-8 names", Postgres, `select * from "schéma".tablé`, "SELECT",
			[]string{`read "schéma".tablé => "schéma".tablé`}},
		{"comma list and lateral", Postgres, `select * from a.b x, c.d y, lateral (select * from e.f) z`, "SELECT",
			[]string{`read a.b => a.b`, `read c.d => c.d`, `read e.f => e.f`}},
		{"join tree in parens", Postgres, `select * from (a.b join c.d using (k)) join e.f on true`, "SELECT",
			[]string{`read a.b => a.b`, `read c.d => c.d`, `read e.f => e.f`}},
		{"subqueries everywhere", Postgres,
			`select (select max(x) from s.m), y from s.a where z in (select z from s.b) and exists (select 1 from s.c)`, "SELECT",
			[]string{`read s.m => s.m`, `read s.a => s.a`, `read s.b => s.b`, `read s.c => s.c`}},
		{"functions are not relations", Postgres,
			`select * from generate_series(1, 3) g, pg_catalog.generate_series(1,2), rows from (s.f(1), s.g(2))`, "SELECT", nil},
		{"from inside functions", Postgres,
			`select extract(year from d), substring(s from 2 for 3), trim(both ' ' from x), a is distinct from b.c from s.t`, "SELECT",
			[]string{`read s.t => s.t`}},
		{"clauses end the from list", Postgres,
			`select * from s.t where a = any(array[1, 2]) group by a, b.c order by x.y, z`, "SELECT",
			[]string{`read s.t => s.t`}},
		{"cte names are not relations", Postgres,
			`with orders as (select * from raw.orders) select * from orders join stg.customers using (id)`, "SELECT",
			[]string{`read raw.orders => raw.orders`, `read stg.customers => stg.customers`}},
		{"strings comments dollar quotes", Postgres,
			"select 'from a.b', $$ from c.d $$, $t$ from e.f $t$, E'\\' from g.h' /* from i.j /* nested */ from k.l */ -- from m.n\n from s.t", "SELECT",
			[]string{`read s.t => s.t`}},
		{"parameters and casts", Postgres, `select $1::text from s.t where x = $2`, "SELECT", []string{`read s.t => s.t`}},
		{"insert select", Postgres, `insert into dev.t (a, b) select a, b from prod.s`, "INSERT",
			[]string{`write dev.t => dev.t`, `read prod.s => prod.s`}},
		{"insert unqualified target", Postgres, `insert into t values (1), (2)`, "INSERT", []string{`write t => t`}},
		{"update from", Postgres, `update only dev.t set a = s.a from prod.s, prod.u where t.id = s.id`, "UPDATE",
			[]string{`write dev.t => dev.t`, `read prod.s => prod.s`, `read prod.u => prod.u`}},
		{"delete using", Postgres, `delete from dev.t using prod.s where t.id = s.id`, "DELETE",
			[]string{`write dev.t => dev.t`, `read prod.s => prod.s`}},
		{"dbt delete+insert", Postgres,
			`delete from "db"."dev"."m" where (id) in (select (id) from "m__dbt_tmp123"); insert into "db"."dev"."m" ("id") (select "id" from "m__dbt_tmp123")`,
			"DELETE", []string{`write "db"."dev"."m" => "db"."dev"."m"`, `write "db"."dev"."m" => "db"."dev"."m"`}},
		{"merge", Postgres,
			`merge into dev.t as d using prod.s as s on d.id = s.id when matched then update set a = s.a when not matched then insert (a) values (s.a)`,
			"MERGE", []string{`write dev.t => dev.t`, `read prod.s => prod.s`}},
		{"on conflict do update", Postgres, `insert into dev.t values (1) on conflict (id) do update set a = excluded.a`, "INSERT",
			[]string{`write dev.t => dev.t`}},
		{"data-modifying cte", Postgres,
			`with d as (delete from dev.t where x returning *), u as (update dev.u set a = 1 returning *) insert into dev.log select * from d`,
			"INSERT", []string{`write dev.t => dev.t`, `write dev.u => dev.u`, `write dev.log => dev.log`}},
		{"ctas", Postgres, `create table if not exists dev.t as select * from prod.s`, "CREATE TABLE AS",
			[]string{`write dev.t => dev.t`, `read prod.s => prod.s`}},
		{"create view", Postgres, `create or replace view "dev"."v" as (select * from "prod"."s")`, "CREATE VIEW",
			[]string{`write "dev"."v" => "dev"."v"`, `read "prod"."s" => "prod"."s"`}},
		{"create temp table", Postgres, `create temporary table "m__dbt_tmp" as (select 1)`, "CREATE TABLE AS",
			[]string{`write "m__dbt_tmp" => "m__dbt_tmp"`}},
		{"create table with columns", Postgres, `create unlogged table dev.t (a int references prod.p (id))`, "CREATE TABLE",
			[]string{`write dev.t => dev.t`}},
		{"create materialized view", Postgres, `create materialized view dev.mv as select * from prod.s with no data`, "CREATE MATERIALIZED VIEW",
			[]string{`write dev.mv => dev.mv`, `read prod.s => prod.s`}},
		{"create index", Postgres, `create unique index concurrently if not exists i on only dev.t using btree (a)`, "CREATE INDEX",
			[]string{`write dev.t => dev.t`}},
		{"alter rename", Postgres, `alter table if exists dev.m__dbt_tmp rename to m`, "ALTER TABLE",
			[]string{`write dev.m__dbt_tmp => dev.m__dbt_tmp`, `write m => m`}},
		{"alter rename column", Postgres, `alter table dev.t rename column a to b`, "ALTER TABLE", []string{`write dev.t => dev.t`}},
		{"drop list", Postgres, `drop table if exists dev.a, dev.b, c cascade`, "DROP",
			[]string{`write dev.a => dev.a`, `write dev.b => dev.b`, `write c => c`}},
		{"drop view", Postgres, `drop view if exists "dev"."m__dbt_backup" cascade`, "DROP",
			[]string{`write "dev"."m__dbt_backup" => "dev"."m__dbt_backup"`}},
		{"drop schema", Postgres, `drop schema if exists dev cascade`, "DROP", nil},
		{"truncate", Postgres, `truncate table only dev.a, dev.b restart identity`, "TRUNCATE",
			[]string{`write dev.a => dev.a`, `write dev.b => dev.b`}},
		{"copy from", Postgres, `copy dev.t (a, b) from stdin`, "COPY", []string{`write dev.t => dev.t`}},
		{"copy to", Postgres, `copy dev.t to stdout`, "COPY", []string{`read dev.t => dev.t`}},
		{"copy query", Postgres, `copy (select * from prod.s) to stdout`, "COPY", []string{`read prod.s => prod.s`}},
		{"grant", Postgres, `grant select on dev.t, dev.u to reporter`, "GRANT",
			[]string{`write dev.t => dev.t`, `write dev.u => dev.u`}},
		{"grant on schema", Postgres, `grant usage on schema dev to reporter`, "GRANT", nil},
		{"revoke from role", Postgres, `revoke select on table dev.t from reporter`, "REVOKE", []string{`write dev.t => dev.t`}},
		{"comment on", Postgres, `comment on table dev.t is 'from x.y'`, "COMMENT", []string{`write dev.t => dev.t`}},
		{"lock", Postgres, `lock table dev.t in access exclusive mode`, "LOCK", []string{`write dev.t => dev.t`}},
		{"refresh", Postgres, `refresh materialized view concurrently dev.mv`, "REFRESH MATERIALIZED VIEW", []string{`write dev.mv => dev.mv`}},
		{"explain", Postgres, `explain (analyze, costs off) select * from prod.s`, "EXPLAIN", []string{`read prod.s => prod.s`}},
		{"prepare", Postgres, `prepare p (int) as update dev.t set a = $1`, "PREPARE", []string{`write dev.t => dev.t`}},
		{"select into", Postgres, `select * into temp table dev_copy from prod.s`, "SELECT INTO",
			[]string{`write dev_copy => dev_copy`, `read prod.s => prod.s`}},
		{"for update is no statement", Postgres, `select * from prod.s for update of s`, "SELECT", []string{`read prod.s => prod.s`}},
		{"column named update", Postgres, `create table dev.t (update int, "from" text)`, "CREATE TABLE", []string{`write dev.t => dev.t`}},
		{"rule action", Postgres, `create rule r as on insert to dev.t do instead insert into dev.u select * from prod.s`, "CREATE",
			[]string{`write dev.u => dev.u`, `read prod.s => prod.s`}},
		{"function body left alone", Postgres,
			`create function f() returns int language sql as $$ select count(*) from prod.s $$`, "CREATE FUNCTION", nil},
		{"begin atomic body left alone", Postgres,
			"create function f() returns void language sql begin atomic insert into dev.t values (1); select 1 from prod.s; end", "CREATE FUNCTION", nil},
		{"catalog query", Postgres,
			`select column_name from "db".INFORMATION_SCHEMA.columns where table_name = 'x'`, "SELECT",
			[]string{`read "db".INFORMATION_SCHEMA.columns => "db".information_schema.columns`}},
		{"whitespace around dots left alone", Postgres, `select * from a . b, c./* x */d`, "SELECT", nil},
		{"four parts left alone", Postgres, `select * from a.b.c.d`, "SELECT", nil},
		{"unicode identifier left alone", Postgres, `select * from U&"d\0061t".x`, "SELECT", nil},
		{"psql variables", Postgres, `select * from :"schema".t, :tbl`, "SELECT", nil},
		{"set", Postgres, `set search_path to dev, public`, "SET", nil},
		{"show", Postgres, `show search_path`, "SHOW", nil},
		{"unparseable still read", Postgres, `select * from prod.s where (`, "SELECT", []string{`read prod.s => prod.s`}},

		// Snowflake shapes as dbt-snowflake sends them.
		{"sf ctas transient", Snowflake,
			"create or replace transient table ANALYTICS.DBT_FABIO.orders\n  as\n  (select * from ANALYTICS.DBT_FABIO.stg_orders // comment from x.y\n  )",
			"CREATE TABLE AS", []string{`write ANALYTICS.DBT_FABIO.orders => ANALYTICS.DBT_FABIO.ORDERS`,
				`read ANALYTICS.DBT_FABIO.stg_orders => ANALYTICS.DBT_FABIO.STG_ORDERS`}},
		{"sf create view", Snowflake, `create or replace secure view db.s.v as (select * from db.s.t)`, "CREATE VIEW",
			[]string{`write db.s.v => DB.S.V`, `read db.s.t => DB.S.T`}},
		{"sf temporary view", Snowflake, `create or replace temporary view db.s.m__dbt_tmp as (select 1)`, "CREATE VIEW",
			[]string{`write db.s.m__dbt_tmp => DB.S.M__DBT_TMP`}},
		{"sf merge", Snowflake,
			`merge into db.s.m as DBT_INTERNAL_DEST using db.s.m__dbt_tmp as DBT_INTERNAL_SOURCE on (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id) when matched then update set DBT_INTERNAL_DEST.a = DBT_INTERNAL_SOURCE.a, DBT_INTERNAL_DEST.b = DBT_INTERNAL_SOURCE.b when not matched then insert ("ID", "A") values ("ID", "A")`,
			"MERGE", []string{`write db.s.m => DB.S.M`, `read db.s.m__dbt_tmp => DB.S.M__DBT_TMP`}},
		{"sf insert overwrite", Snowflake, `insert overwrite into db.s.t select * from db.s.u`, "INSERT",
			[]string{`write db.s.t => DB.S.T`, `read db.s.u => DB.S.U`}},
		{"sf multi-table insert", Snowflake, `insert all into db.s.a into db.s.b (x) values (y) select y from db.s.c`, "INSERT",
			[]string{`write db.s.a => DB.S.A`, `write db.s.b => DB.S.B`, `read db.s.c => DB.S.C`}},
		{"sf identifier", Snowflake, `select * from identifier('db.s.t') join db.s.u on true; create table identifier($name) (a int)`, "SELECT",
			[]string{`read db.s.u => DB.S.U`}},
		{"sf flatten and table functions", Snowflake,
			`select * from db.s.t, lateral flatten(input => t.v:items) f, table(db.s.udtf(1)) u`, "SELECT",
			[]string{`read db.s.t => DB.S.T`}},
		{"sf stages and binds", Snowflake, `select $1, :x from @db.s.stage/path (file_format => 'f') where a = ?`, "SELECT", nil},
		{"sf copy into", Snowflake, `copy into db.s.t from @db.s.stage file_format = (type = csv)`, "COPY",
			[]string{`write db.s.t => DB.S.T`}},
		{"sf strings with backslash", Snowflake, `select 'it\'s from a.b' from db.s.t`, "SELECT", []string{`read db.s.t => DB.S.T`}},
		{"sf dollar string", Snowflake, `select $$ from a.b $$ from "Db"."S".t`, "SELECT", []string{`read "Db"."S".t => "Db"."S".T`}},
		{"sf alter rename and swap", Snowflake, `alter table db.s.m__dbt_tmp rename to db.s.m; alter table db.s.a swap with db.s.b`, "ALTER TABLE",
			[]string{`write db.s.m__dbt_tmp => DB.S.M__DBT_TMP`, `write db.s.m => DB.S.M`, `write db.s.a => DB.S.A`, `write db.s.b => DB.S.B`}},
		{"sf drop", Snowflake, `drop table if exists db.s.m__dbt_backup cascade`, "DROP", []string{`write db.s.m__dbt_backup => DB.S.M__DBT_BACKUP`}},
		{"sf truncate", Snowflake, `truncate table if exists db.s.t`, "TRUNCATE", []string{`write db.s.t => DB.S.T`}},
		{"sf grant", Snowflake, `grant select on table db.s.t to role reporter`, "GRANT", []string{`write db.s.t => DB.S.T`}},
		{"sf show and describe", Snowflake, `show terse objects in schema db.s; describe table db.s.t`, "SHOW", []string{`read db.s.t => DB.S.T`}},
		{"sf qualify and connect by", Snowflake,
			`select * from db.s.t qualify row_number() over (partition by a, b order by c) = 1`, "SELECT", []string{`read db.s.t => DB.S.T`}},
		{"sf information schema", Snowflake, `select * from db.information_schema.tables where table_schema = 'S'`, "SELECT",
			[]string{`read db.information_schema.tables => DB.INFORMATION_SCHEMA.TABLES`}},
		{"sf select into is a variable", Snowflake, `select count(*) into n from db.s.t`, "SELECT", []string{`read db.s.t => DB.S.T`}},
		{"sf slash is division", Postgres, `select a // b from s.t`, "SELECT", []string{`read s.t => s.t`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := LexAnalyze(tc.sql, tc.dialect)
			if a.Parsed || a.ParseError != "" {
				t.Errorf("Parsed=%v ParseError=%q, want false and empty", a.Parsed, a.ParseError)
			}
			if len(a.Statements) == 0 {
				t.Fatalf("no statements")
			}
			if got := a.Statements[0].Kind; got != tc.kind {
				t.Errorf("kind %q, want %q", got, tc.kind)
			}
			var got []string
			for _, st := range a.Statements {
				for _, r := range st.References {
					got = append(got, describeRef(tc.sql, r))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.refs, "\n") {
				t.Errorf("references of\n%s\ngot:\n  %s\nwant:\n  %s", tc.sql, strings.Join(got, "\n  "), strings.Join(tc.refs, "\n  "))
			}
			checkLexInvariants(t, tc.sql, tc.dialect, a)
		})
	}
}

func TestLexAnalyzeFlags(t *testing.T) {
	tests := []struct {
		sql           string
		d             Dialect
		ddl, catalog  bool
		kind          string
		nStmt         int
		firstStmtText string
	}{
		{`select * from pg_catalog.pg_class`, Postgres, false, true, "SELECT", 1, ""},
		{`select * from pg_tables where schemaname = 'x'`, Postgres, false, true, "SELECT", 1, ""},
		{`select * from "information_schema"."columns"`, Postgres, false, true, "SELECT", 1, ""},
		{`select * from dev.pg_thing`, Postgres, false, false, "SELECT", 1, ""},
		{`create schema if not exists dev`, Postgres, true, false, "CREATE SCHEMA", 1, ""},
		{`alter table dev.t add column a int`, Postgres, true, false, "ALTER TABLE", 1, ""},
		{`alter table dev.t set schema prod`, Postgres, true, false, "ALTER TABLE", 1, ""},
		{`insert into dev.t values (1)`, Postgres, false, false, "INSERT", 1, ""},
		{`begin; select 1; commit;`, Postgres, false, false, "BEGIN", 3, "begin"},
		{`;;  select 1 ;  `, Postgres, false, false, "SELECT", 1, "  select 1 "},
		{`select ';' as x; select 2`, Postgres, false, false, "SELECT", 2, "select ';' as x"},
		{"select 1 // ; comment\n; select 2", Snowflake, false, false, "SELECT", 2, "select 1 // ; comment\n"},
		{`(select 1) union (select 2)`, Postgres, false, false, "SELECT", 1, ""},
		{`with x as (select 1) select * from x`, Postgres, false, false, "SELECT", 1, ""},
		{`values (1, 2)`, Postgres, false, false, "SELECT", 1, ""},
		{`vacuum dev.t`, Postgres, false, false, "VACUUM", 1, ""},
		{`cluster dev.t`, Postgres, false, false, "OTHER", 1, ""},
		{`update rows set x = 1`, Postgres, false, false, "UPDATE", 1, ""},
	}
	for _, tc := range tests {
		a := LexAnalyze(tc.sql, tc.d)
		if len(a.Statements) != tc.nStmt {
			t.Errorf("%q: %d statements, want %d: %s", tc.sql, len(a.Statements), tc.nStmt, describeAnalysis(tc.sql, a))
			continue
		}
		st := a.Statements[0]
		if st.Kind != tc.kind || st.DDL != tc.ddl || st.CatalogQuery != tc.catalog {
			t.Errorf("%q: kind %q ddl %v catalog %v, want %q %v %v", tc.sql, st.Kind, st.DDL, st.CatalogQuery, tc.kind, tc.ddl, tc.catalog)
		}
		if tc.firstStmtText != "" {
			if got := tc.sql[st.Start:st.End]; got != tc.firstStmtText {
				t.Errorf("%q: first statement %q, want %q", tc.sql, got, tc.firstStmtText)
			}
		}
		checkLexInvariants(t, tc.sql, tc.d, a)
	}
}

func TestLexQualifiers(t *testing.T) {
	tests := []struct {
		sql   string
		d     Dialect
		quals []string
	}{
		{`select prod.s.a, prod.s.*, "Prod".s.b from prod.s where prod.s.c = 1 and s.d = 2`, Postgres,
			[]string{`read prod.s => prod.s`, `read prod.s => prod.s`, `read "Prod".s => "Prod".s`, `read prod.s => prod.s`}},
		{`select db.prod.s.a, db.prod.s.* from db.prod.s`, Postgres, []string{`read db.prod.s => db.prod.s`, `read db.prod.s => db.prod.s`}},
		{`select DB.S.T.col from DB.S.T`, Snowflake, []string{`read DB.S.T => DB.S.T`}},
		{`update dev.t set a = 1, b = prod.s.b from prod.s where dev.t.id = prod.s.id`, Postgres,
			[]string{`read prod.s => prod.s`, `read dev.t => dev.t`, `read prod.s => prod.s`}},
		{`insert into dev.t (a, q.c1.r) values (1, 2)`, Postgres, nil},                          // composite field targets
		{`update dev.t set q.c1.r = 1`, Postgres, nil},                                          // an assignment target
		{`select x::s.t.typ, cast(y as s.t.typ), s.f(1), db.s.f(2) from prod.s`, Postgres, nil}, // types and functions
		{`select src:a.b.c, src:"a".b.c from db.s.t`, Snowflake, nil},                           // semi-structured paths
		{`set custom.my.qualified.guc = 'foo'`, Postgres, nil},
		{`select (row).f.g from prod.s`, Postgres, nil},
	}
	for _, tc := range tests {
		checkLexed(t, "qualifiers", tc.sql, tc.d, tc.quals, func(st *Statement) []Reference { return st.Qualifiers })
	}
}

func TestLexSchemas(t *testing.T) {
	tests := []struct {
		sql     string
		d       Dialect
		schemas []string
	}{
		{`drop schema if exists dev, "Prod" cascade`, Postgres, []string{`write dev => dev`, `write "Prod" => "Prod"`}},
		{`alter schema dev rename to dev_old`, Postgres, []string{`write dev => dev`, `write dev_old => dev_old`}},
		{`alter schema prod owner to someone`, Postgres, []string{`write prod => prod`}},
		{`alter schema prod set tablespace x`, Postgres, nil},
		{`grant usage on schema prod, dev to reporter`, Postgres, []string{`write prod => prod`, `write dev => dev`}},
		{`revoke select on all tables in schema prod from reporter`, Postgres, []string{`write prod => prod`}},
		{`grant select on prod.t to reporter`, Postgres, nil},
		{`drop schema if exists ANALYTICS.DBT_FABIO cascade`, Snowflake, []string{`write ANALYTICS.DBT_FABIO => ANALYTICS.DBT_FABIO`}},
		{`grant select on future tables in schema analytics.prod to role r`, Snowflake, []string{`write analytics.prod => ANALYTICS.PROD`}},
		{`alter schema db.a swap with db.b`, Snowflake, []string{`write db.a => DB.A`, `write db.b => DB.B`}},
		{`drop schema a.b`, Postgres, nil}, // no such PostgreSQL syntax: left alone
	}
	for _, tc := range tests {
		checkLexed(t, "schemas", tc.sql, tc.d, tc.schemas, func(st *Statement) []Reference { return st.Schemas })
	}
}

// checkLexed lexes sql and compares the references pick takes from each statement with want (describeRef form).
func checkLexed(t *testing.T, what, sql string, d Dialect, want []string, pick func(*Statement) []Reference) {
	t.Helper()
	a := LexAnalyze(sql, d)
	var got []string
	for i := range a.Statements {
		for _, r := range pick(&a.Statements[i]) {
			got = append(got, describeRef(sql, r))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s of\n%s\ngot:\n  %s\nwant:\n  %s", what, sql, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	checkLexInvariants(t, sql, d, a)
}

// checkLexInvariants checks what holds for every analysis: statements in order and in bounds, references inside
// their statement, in text order, not overlapping, with consistent parts, and each span re-lexing to the same name.
func checkLexInvariants(t testing.TB, sql string, d Dialect, a *Analysis) {
	t.Helper()
	prevEnd := 0
	last := -1
	for si, st := range a.Statements {
		checkSideRefs(t, "schema", st, si, st.Schemas, 1, 2, Write)
		checkSideRefs(t, "qualifier", st, si, st.Qualifiers, 2, 3, Read)
		if st.Start < prevEnd || st.End < st.Start || st.End > len(sql) {
			t.Fatalf("statement %d span [%d:%d] out of order or bounds (previous end %d, len %d)", si, st.Start, st.End, prevEnd, len(sql))
		}
		prevEnd = st.End
		for _, r := range st.References {
			if r.Statement != si {
				t.Fatalf("reference %q in statement %d says %d", sql[r.Start:r.End], si, r.Statement)
			}
			if r.Start < st.Start || r.End > st.End || r.Start >= r.End {
				t.Fatalf("reference [%d:%d] outside statement %d [%d:%d]", r.Start, r.End, si, st.Start, st.End)
			}
			if r.Start < last {
				t.Fatalf("reference [%d:%d] overlaps or precedes the previous one (end %d)", r.Start, r.End, last)
			}
			last = r.End
			n := len(r.Parts)
			if n < 1 || n > 3 || len(r.Quoted) != n || len(r.Normalized) != n {
				t.Fatalf("reference %q: %d parts, %d quoted flags, %d normalised", sql[r.Start:r.End], n, len(r.Quoted), len(r.Normalized))
			}
			if r.Role == Read && n < 2 {
				t.Fatalf("unqualified read %q reported", sql[r.Start:r.End])
			}
			// The span alone, written as a write target, lexes to the same name.
			text := sql[r.Start:r.End]
			again := LexAnalyze("insert into "+text, d)
			if len(again.Statements) != 1 || len(again.Statements[0].References) != 1 {
				t.Fatalf("span %q does not re-lex to one name: %s", text, describeAnalysis("insert into "+text, again))
			}
			r2 := again.Statements[0].References[0]
			if r2.Start != len("insert into ") || r2.End != len("insert into ")+len(text) ||
				!equalStrings(r2.Parts, r.Parts) || !equalStrings(r2.Normalized, r.Normalized) || fmt.Sprint(r2.Quoted) != fmt.Sprint(r.Quoted) {
				t.Fatalf("span %q re-lexes to %q %q %v, was %q %q %v", text, r2.Parts, r2.Normalized, r2.Quoted, r.Parts, r.Normalized, r.Quoted)
			}
		}
	}
}

// TestLexGolden runs every testdata/lexer/*.sql file (pg_*.sql: PostgreSQL, sf_*.sql: Snowflake) and compares the
// analysis with the .golden file beside it. -update rewrites the golden files.
func TestLexGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "lexer", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs in testdata/lexer: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d := Postgres
			if strings.HasPrefix(filepath.Base(f), "sf_") {
				d = Snowflake
			}
			sql := string(b)
			a := LexAnalyze(sql, d)
			checkLexInvariants(t, sql, d, a)
			got := describeAnalysis(sql, a)
			golden := strings.TrimSuffix(f, ".sql") + ".golden"
			if lexUpdate() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./rewrite -run TestLexGolden -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (run with -update after checking):\ngot:\n%s\nwant:\n%s", f, golden, got, want)
			}
		})
	}
}

// checkSideRefs checks a statement's qualifiers or schemas: in order, inside the statement, minParts–maxParts parts
// with Normalized and Quoted of the same length, the given role and statement index.
func checkSideRefs(t testing.TB, kind string, st Statement, si int, refs []Reference, minParts, maxParts int, role Role) {
	t.Helper()
	last := st.Start
	for _, q := range refs {
		if q.Start < last || q.End > st.End || q.Start >= q.End || len(q.Parts) < minParts || len(q.Parts) > maxParts ||
			len(q.Normalized) != len(q.Parts) || len(q.Quoted) != len(q.Parts) || q.Role != role || q.Statement != si {
			t.Fatalf("%s %+v of statement %d [%d:%d] is malformed or out of order", kind, q, si, st.Start, st.End)
		}
		last = q.End
	}
}
