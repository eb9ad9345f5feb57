package rewrite

import (
	"strings"
	"testing"
)

// summary is the write-guard view of an analysis: pinned and written relations, schemas, objects and what a code
// body holds, one token per item ("pin:analytics.orders", "schema:analytics", "object:analytics.f",
// "body-write:analytics.orders", "dynamic", "opaque", "runs").
func guardSummary(t *testing.T, sql string) string {
	t.Helper()
	a, err := Analyze(sql)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Parsed {
		t.Fatalf("%s: did not parse: %s", sql, a.ParseError)
	}
	var out []string
	for _, st := range a.Statements {
		for _, r := range st.References {
			if r.Role != Read {
				out = append(out, r.Role.String()+":"+strings.Join(r.Normalized, "."))
			}
			if r.End > len(sql) || r.Start > r.End {
				t.Fatalf("%s: bad span %d:%d", sql, r.Start, r.End)
			}
		}
		for _, r := range st.Schemas {
			out = append(out, "schema:"+strings.Join(r.Normalized, "."))
		}
		for _, r := range st.Objects {
			out = append(out, "object:"+strings.Join(r.Normalized, "."))
			if r.Start < st.Start || r.End > st.End || r.Start > r.End {
				t.Fatalf("%s: object span %d:%d outside the statement", sql, r.Start, r.End)
			}
		}
		if b := st.Body; b != nil {
			if b.Runs {
				out = append(out, "runs")
			}
			for _, p := range b.Parts {
				for _, bs := range p.Analysis.Statements {
					for _, r := range bs.References {
						if r.Role != Read {
							out = append(out, "body-"+r.Role.String()+":"+strings.Join(r.Normalized, "."))
						}
					}
					for _, r := range bs.Schemas {
						out = append(out, "body-schema:"+strings.Join(r.Normalized, "."))
					}
					for _, r := range bs.Objects {
						out = append(out, "body-object:"+strings.Join(r.Normalized, "."))
					}
				}
			}
			if b.Dynamic {
				out = append(out, "dynamic")
			}
			if b.Opaque != "" {
				out = append(out, "opaque")
			}
		}
	}
	return strings.Join(out, " ")
}

// The classification the write guard relies on for issue 10 rows 7–10 and SELECT … FOR UPDATE (SPEC §5.2, §6).
func TestGuardClassification(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		// privileges (row 7)
		{`GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO public`, "schema:analytics"},
		{`GRANT USAGE ON SCHEMA "Analytics" TO x`, "schema:Analytics"},
		{`GRANT CREATE ON SCHEMA U&"\0061nalytics" TO x`, "schema:analytics"},
		{`ALTER DEFAULT PRIVILEGES IN SCHEMA analytics, dbt GRANT SELECT ON TABLES TO x`, "schema:analytics schema:dbt"},
		{`ALTER DEFAULT PRIVILEGES FOR ROLE r GRANT SELECT ON TABLES TO x`, ""},
		{`GRANT EXECUTE ON FUNCTION analytics.f(int) TO x`, "object:analytics.f"},
		{`REVOKE ALL ON SEQUENCE analytics.s FROM x`, "write:analytics.s"},
		{`GRANT USAGE ON TYPE Analytics.T TO x`, "object:analytics.t"},
		// references (row 8)
		{`CREATE TABLE dbt.fk (o int REFERENCES analytics.orders (id))`, "write:dbt.fk pin:analytics.orders"},
		{`CREATE TABLE dbt.fk (o int, FOREIGN KEY (o) REFERENCES "analytics"."Orders")`, "write:dbt.fk pin:analytics.Orders"},
		{`ALTER TABLE dbt.fk ADD CONSTRAINT c FOREIGN KEY (o) REFERENCES analytics.orders`, "write:dbt.fk pin:analytics.orders"},
		{`CREATE TABLE dbt.t (a int CHECK (a > 0), LIKE analytics.orders)`, "write:dbt.t"},
		// objects in a schema (row 10)
		{`CREATE FUNCTION analytics.f() RETURNS int LANGUAGE sql AS 'select 1'`, "object:analytics.f"},
		{`CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'`, "object:f"},
		{`CREATE TYPE analytics.t AS (a int)`, "object:analytics.t"},
		{`CREATE TYPE analytics.e AS ENUM ('a')`, "object:analytics.e"},
		{`CREATE DOMAIN analytics.d int`, "object:analytics.d"},
		{`CREATE AGGREGATE analytics.a (int) (sfunc = int4pl, stype = int)`, "object:analytics.a"},
		{`CREATE EXTENSION hstore SCHEMA analytics`, "schema:analytics"},
		{`ALTER FUNCTION dbt.f() SET SCHEMA analytics`, "schema:analytics object:dbt.f"},
		{`ALTER TABLE dbt.x SET SCHEMA analytics`, "write:dbt.x write:analytics.x"},
		{`CREATE SCHEMA analytics AUTHORIZATION bob`, "schema:analytics"},
		{`CREATE SCHEMA IF NOT EXISTS analytics`, ""},
		{`DROP FUNCTION analytics.f(), dbt.g()`, "object:analytics.f object:dbt.g"},
		{`DROP TRIGGER t ON analytics.orders`, "object:analytics.orders"},
		{`ALTER FUNCTION analytics.f() OWNER TO x`, "object:analytics.f"},
		{`COMMENT ON FUNCTION analytics.f() IS 'x'`, "object:analytics.f"},
		{`CREATE POLICY p ON analytics.orders USING (true)`, "write:analytics.orders"},
		{`CREATE RULE r AS ON INSERT TO dbt.x DO ALSO DELETE FROM analytics.orders`, "write:dbt.x write:analytics.orders"},
		// code bodies (row 9)
		{`DO $$ BEGIN DELETE FROM analytics.orders; END $$`, "runs body-write:analytics.orders"},
		{`DO 'BEGIN EXECUTE ''TRUNCATE analytics.orders''; END'`, "runs body-write:analytics.orders"},
		{`DO $$ BEGIN EXECUTE 'DELETE FROM ' || 'analytics.orders'; END $$`, "runs dynamic"},
		{`DO $$ DECLARE n int; BEGIN n := (select count(*) from dbt.x); PERFORM 1; END $$`, "runs"},
		{`DO LANGUAGE plpythonu $$ plpy.execute("x") $$`, "runs opaque"},
		{`DO $$ BEGIN nonsense; END $$`, "runs opaque"},
		{`DO $$ BEGIN GRANT USAGE ON SCHEMA analytics TO x; END $$`, "runs body-schema:analytics"},
		{`CREATE FUNCTION dbt.f() RETURNS void LANGUAGE sql AS $$ DELETE FROM analytics.orders $$`, "object:dbt.f body-write:analytics.orders"},
		{`CREATE PROCEDURE dbt.p() LANGUAGE sql BEGIN ATOMIC DELETE FROM analytics.orders; END`, "object:dbt.p body-write:analytics.orders"},
		{`CREATE FUNCTION dbt.tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO analytics.log VALUES (NEW.id); RETURN NEW; END $$`,
			"object:dbt.tf body-write:analytics.log"},
		{`CREATE FUNCTION dbt.c() RETURNS int LANGUAGE c AS 'lib', 'sym'`, "object:dbt.c opaque"},
		// row locks
		{`SELECT * FROM dbt.orders FOR UPDATE`, "pin:dbt.orders"},
		{`SELECT * FROM dbt.orders o JOIN dbt.c ON true FOR SHARE OF c`, "pin:dbt.c"},
		{`SELECT * FROM (SELECT * FROM dbt.orders) s, dbt.c FOR KEY SHARE OF s`, "pin:dbt.orders"},
		{`WITH w AS (SELECT * FROM dbt.a FOR UPDATE) SELECT * FROM w, dbt.b`, "pin:dbt.a"},
		{`SELECT * FROM dbt.orders WHERE id IN (SELECT id FROM dbt.x FOR NO KEY UPDATE)`, "pin:dbt.x"},
	} {
		if got := guardSummary(t, tc.sql); got != tc.want {
			t.Errorf("%s\n   got: %s\n  want: %s", tc.sql, got, tc.want)
		}
	}
}

// A code body may be one of a statement's literals: two DO blocks of one literal shape never share an analysis.
func TestBodyNotShapeShared(t *testing.T) {
	c := NewCache(16)
	if _, err := c.Analyze(`DO 'BEGIN PERFORM 1; END'`); err != nil {
		t.Fatal(err)
	}
	a, err := c.Analyze(`DO 'BEGIN DELETE FROM analytics.orders; END'`)
	if err != nil {
		t.Fatal(err)
	}
	b := a.Statements[0].Body
	if b == nil || len(b.Parts) == 0 || b.Parts[0].Analysis.Statements[0].References[0].Role != Write {
		t.Fatalf("the second DO block got the first one's analysis: %+v", b)
	}
}
