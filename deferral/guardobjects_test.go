package deferral_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// guardSetupSQL adds production objects besides tables (a function, a sequence, a type) and dev objects that
// point at production (a view over a production table), for the issue 10 rows 7–10 attacks.
const guardSetupSQL = `
CREATE FUNCTION analytics.prod_fn() RETURNS int LANGUAGE sql AS 'select 1';
CREATE SEQUENCE analytics.prod_seq;
CREATE TYPE analytics.prod_type AS (a int);
ALTER TABLE analytics.orders ADD PRIMARY KEY (id);
CREATE TABLE dbt_fabio.dev_orders (id int PRIMARY KEY, src text); INSERT INTO dbt_fabio.dev_orders VALUES (1, 'dev');
CREATE VIEW dbt_fabio.v_orders AS SELECT id, src FROM analytics.orders;
CREATE VIEW dbt_fabio.v_dev AS SELECT id, src FROM dbt_fabio.dev_orders;
`

// prodFingerprint is everything an attack on production could change, read straight from the database (not
// through the proxy): each production table's row count and md5, and the catalog entries of the production schema
// — its ACL and owner, its relations (kind, owner, ACL), functions, types, triggers, constraints (both on and
// referencing production), policies, rules and default privileges.
func prodFingerprint(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.c.URL(pgtest.SuperUser, "", e.db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var b strings.Builder
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		var n int64
		var sum string
		q := fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM analytics.%s t`,
			pgx.Identifier{tb}.Sanitize())
		if err := conn.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "table %s %d %s\n", tb, n, sum)
	}
	for _, q := range []string{
		`SELECT nspname || ' ' || nspowner::regrole::text || ' ' || coalesce(nspacl::text, '-') FROM pg_namespace WHERE nspname = 'analytics'`,
		`SELECT relname || ' ' || relkind::text || ' ' || relowner::regrole::text || ' ' || coalesce(relacl::text, '-') || ' ' || relhastriggers::text
			FROM pg_class WHERE relnamespace = 'analytics'::regnamespace`,
		`SELECT proname || ' ' || proowner::regrole::text || ' ' || coalesce(proacl::text, '-') || ' ' || md5(prosrc)
			FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace`,
		`SELECT typname || ' ' || coalesce(typacl::text, '-') FROM pg_type WHERE typnamespace = 'analytics'::regnamespace`,
		`SELECT tgrelid::regclass::text || ' ' || tgname FROM pg_trigger
			WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'analytics'::regnamespace)`,
		`SELECT conrelid::regclass::text || ' ' || conname || ' ' || confrelid::regclass::text FROM pg_constraint
			WHERE connamespace = 'analytics'::regnamespace OR confrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'analytics'::regnamespace)`,
		`SELECT polrelid::regclass::text || ' ' || polname FROM pg_policy`,
		`SELECT ev_class::regclass::text || ' ' || rulename FROM pg_rewrite
			WHERE ev_class IN (SELECT oid FROM pg_class WHERE relnamespace = 'analytics'::regnamespace)`,
		`SELECT coalesce(nullif(defaclnamespace, 0)::regnamespace::text, '*') || ' ' || defaclobjtype::text || ' ' || defaclacl::text FROM pg_default_acl`,
		`SELECT collname FROM pg_collation WHERE collnamespace = 'analytics'::regnamespace`,
		`SELECT oprname FROM pg_operator WHERE oprnamespace = 'analytics'::regnamespace`,
	} {
		rows, err := conn.Query(ctx, q+" ORDER BY 1")
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b.WriteString(strings.Join(lines, "\n") + "\n--\n")
	}
	return b.String()
}

// guardEnv is a proxy in front of a database with the guard setup, and a superuser session through it.
func guardEnv(t *testing.T) (*env, *client) {
	t.Helper()
	e := newEnv(t, envOptions{})
	e.c.Exec(t, e.db, guardSetupSQL)
	return e, e.connect(t, nil)
}

// wantRefused sends sql through the proxy (simple protocol, then extended protocol where the statement allows it)
// and checks it is refused with 42501 and that production is exactly as before.
func wantRefused(t *testing.T, e *env, c *client, sql string) {
	t.Helper()
	ctx := context.Background()
	before := prodFingerprint(t, e)
	_, err := c.Exec(ctx, sql)
	if pgCode(err) != "42501" {
		t.Errorf("%s\n  simple protocol: want 42501, got %v", sql, err)
	}
	if !strings.Contains(sql, ";") { // the extended protocol takes one statement
		_, err = c.PgConn().ExecParams(ctx, sql, nil, nil, nil, nil).Close()
		if pgCode(err) != "42501" {
			t.Errorf("%s\n  extended protocol: want 42501, got %v", sql, err)
		}
	}
	if after := prodFingerprint(t, e); after != before {
		t.Errorf("%s\n  production changed:\nbefore:\n%s\nafter:\n%s", sql, before, after)
	}
}

// wantAllowed sends sql through the proxy and checks it ran (the guard's negative controls).
func wantAllowed(t *testing.T, c *client, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Errorf("%s\n  want it to run, got %v", sql, err)
	}
}

// Issue 10 row 7: privileges on production objects and schemas are writes.
func TestGuardPrivileges(t *testing.T) {
	e, c := guardEnv(t)
	for _, sql := range []string{
		`GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO public`,
		`grant all on all sequences in schema "analytics" to public`,
		`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA Analytics TO public`,
		`GRANT USAGE ON SCHEMA analytics TO public`,
		`GRANT CREATE ON SCHEMA U&"\0061nalytics" TO public`,
		`REVOKE USAGE ON SCHEMA analytics FROM public`,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO public`,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA dbt_fabio, analytics GRANT SELECT ON TABLES TO public`,
		`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO public`, // every schema, production's included
		`GRANT SELECT ON analytics.orders TO public`,
		`GRANT INSERT (src) ON "analytics"."orders" TO public`,
		`GRANT EXECUTE ON FUNCTION analytics.prod_fn() TO public`,
		`REVOKE EXECUTE ON FUNCTION analytics.prod_fn() FROM public`,
		`GRANT USAGE ON SEQUENCE analytics.prod_seq TO public`,
		`GRANT USAGE ON TYPE analytics.prod_type TO public`,
		`ALTER FUNCTION analytics.prod_fn() OWNER TO public`,
		`ALTER SCHEMA analytics OWNER TO public`,
		`select 1; GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO public`, // several statements in one message
	} {
		wantRefused(t, e, c, sql)
	}
	// Negative controls: the same on dev objects runs.
	wantAllowed(t, c, `GRANT SELECT ON ALL TABLES IN SCHEMA dbt_fabio TO public`)
	wantAllowed(t, c, `GRANT USAGE ON SCHEMA dbt_fabio TO public`)
	wantAllowed(t, c, `ALTER DEFAULT PRIVILEGES IN SCHEMA dbt_fabio GRANT SELECT ON TABLES TO public`)
	wantAllowed(t, c, `GRANT SELECT ON dbt_fabio.dev_orders TO public`)
}

// Issue 10 row 8: a foreign key into production adds triggers to the production table.
func TestGuardReferencesIntoProduction(t *testing.T) {
	e, c := guardEnv(t)
	for _, sql := range []string{
		`CREATE TABLE dbt_fabio.fk (o int REFERENCES analytics.orders (id))`,
		`CREATE TABLE dbt_fabio.fk (o int REFERENCES "analytics"."orders")`,
		`CREATE TABLE dbt_fabio.fk (o int, CONSTRAINT c FOREIGN KEY (o) REFERENCES ANALYTICS.ORDERS (id))`,
		`ALTER TABLE dbt_fabio.dev_orders ADD CONSTRAINT c FOREIGN KEY (id) REFERENCES analytics.orders (id)`,
		`ALTER TABLE dbt_fabio.dev_orders ADD COLUMN o int REFERENCES analytics.orders`,
		// dbt_fabio.orders does not exist in dev and would defer to analytics.orders: a foreign key is never deferred,
		// and one into production is refused.
		`CREATE TABLE dbt_fabio.fk2 (o int REFERENCES U&"\0061nalytics".orders)`,
		`select 1; CREATE TABLE dbt_fabio.fk (o int REFERENCES analytics.orders)`,
	} {
		wantRefused(t, e, c, sql)
	}
	// A foreign key naming a missing dev relation is not deferred: PostgreSQL says it does not exist.
	if _, err := c.Exec(context.Background(), `CREATE TABLE dbt_fabio.fk3 (o int REFERENCES dbt_fabio.orders)`); pgCode(err) != "42P01" {
		t.Errorf("foreign key to a missing dev relation: want 42P01 (not deferred), got %v", err)
	}
	wantAllowed(t, c, `CREATE TABLE dbt_fabio.fk_dev (o int REFERENCES dbt_fabio.dev_orders (id))`)
}

// Issue 10 row 10: creating (or moving) any object into a production schema.
func TestGuardObjectsInProductionSchema(t *testing.T) {
	e, c := guardEnv(t)
	exec(t, c, `CREATE FUNCTION dbt_fabio.dev_fn() RETURNS int LANGUAGE sql AS 'select 2'`)
	exec(t, c, `CREATE TABLE dbt_fabio.to_move (a int)`)
	for _, sql := range []string{
		`CREATE FUNCTION analytics.f() RETURNS int LANGUAGE sql AS 'select 1'`,
		`create or replace function "analytics".prod_fn() returns int language sql as 'select 2'`,
		`CREATE PROCEDURE Analytics.p() LANGUAGE sql AS 'select 1'`,
		`CREATE FUNCTION U&"\0061nalytics".f() RETURNS int LANGUAGE sql AS 'select 1'`,
		`CREATE TYPE analytics.t AS (a int)`,
		`CREATE TYPE analytics.e AS ENUM ('a')`,
		`CREATE DOMAIN analytics.d AS int`,
		`CREATE SEQUENCE analytics.s`,
		`CREATE VIEW analytics.v AS SELECT 1 AS x`,
		`CREATE INDEX ON analytics.orders (src)`,
		`CREATE TRIGGER t AFTER INSERT ON analytics.orders FOR EACH ROW EXECUTE FUNCTION dbt_fabio.dev_fn()`,
		`CREATE POLICY p ON analytics.orders USING (true)`,
		`CREATE RULE r AS ON INSERT TO analytics.orders DO INSTEAD NOTHING`,
		`CREATE AGGREGATE analytics.agg (int) (sfunc = int4pl, stype = int)`,
		`CREATE OPERATOR analytics.=== (leftarg = int, rightarg = int, function = int4eq)`,
		`CREATE COLLATION analytics.c (locale = 'C')`,
		`CREATE STATISTICS analytics.st ON id, src FROM analytics.orders`,
		`CREATE EXTENSION IF NOT EXISTS plpgsql SCHEMA analytics`,
		`ALTER FUNCTION dbt_fabio.dev_fn() SET SCHEMA analytics`,
		`ALTER TABLE dbt_fabio.to_move SET SCHEMA analytics`,
		`ALTER TYPE analytics.prod_type RENAME TO t2`,
		`ALTER FUNCTION analytics.prod_fn() RENAME TO f2`,
		`DROP FUNCTION analytics.prod_fn()`,
		`DROP TYPE analytics.prod_type`,
		`COMMENT ON FUNCTION analytics.prod_fn() IS 'x'`,
		`CREATE SCHEMA analytics`,
		`SET search_path = analytics; CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'`,
		`select 1; CREATE FUNCTION analytics.f() RETURNS int LANGUAGE sql AS 'select 1'`,
	} {
		wantRefused(t, e, c, sql)
		exec(t, c, "RESET search_path")
	}
	wantAllowed(t, c, `CREATE SCHEMA IF NOT EXISTS analytics`) // a no-op on an existing schema
	wantAllowed(t, c, `CREATE FUNCTION dbt_fabio.f() RETURNS int LANGUAGE sql AS 'select 1'`)
	wantAllowed(t, c, `CREATE TYPE dbt_fabio.t AS (a int)`)
	wantAllowed(t, c, `ALTER FUNCTION dbt_fabio.f() RENAME TO f3`)
}

// Issue 10 row 9: code the proxy can read (DO bodies, function bodies) that writes production is refused; a DO
// block it cannot read (dynamic EXECUTE, another language) is refused too, since it runs now.
func TestGuardCodeBodies(t *testing.T) {
	e, c := guardEnv(t)
	for _, sql := range []string{
		`DO $$ BEGIN DELETE FROM analytics.orders; END $$`,
		`DO $x$ BEGIN IF true THEN UPDATE "analytics"."orders" SET src = 'dev'; END IF; END $x$`,
		`do language plpgsql 'begin truncate analytics.orders cascade; end'`,
		`DO $$ BEGIN EXECUTE 'DELETE FROM analytics.orders'; END $$`,
		`DO $$ BEGIN EXECUTE 'DELETE FROM ' || 'anal' || 'ytics.orders'; END $$`, // dynamic: cannot be read
		`DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO public', 'analytics'); END $$`,
		`DO $$ DECLARE n int; BEGIN n := 1; PERFORM 1; CREATE FUNCTION analytics.f() RETURNS int LANGUAGE sql AS 'select 1'; END $$`,
		`DO $$ BEGIN GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO public; END $$`,
		`DO $$ BEGIN INSERT INTO analytics.orders VALUES (7, 'dev'); END $$`,
		`DO LANGUAGE plpgsql $$ BEGIN ALTER TABLE dbt_fabio.dev_orders ADD FOREIGN KEY (id) REFERENCES analytics.orders; END $$`,
		`DO $$ BEGIN PERFORM * FROM analytics.orders FOR UPDATE; END $$`,
		`DO LANGUAGE plperlu $$ spi_exec_query('delete from analytics.orders') $$`, // a language deferproxy cannot read
		`CREATE FUNCTION dbt_fabio.w() RETURNS void LANGUAGE sql AS $$ DELETE FROM analytics.orders $$`,
		`CREATE FUNCTION dbt_fabio.w() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE analytics.orders SET src = 'x'; END $$`,
		`CREATE FUNCTION dbt_fabio.w() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'TRUNCATE analytics.orders'; END $$`,
		`CREATE PROCEDURE dbt_fabio.w() LANGUAGE sql BEGIN ATOMIC DELETE FROM analytics.orders; END`,
		`CREATE FUNCTION dbt_fabio.tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO analytics.orders VALUES (NEW.id, 'x'); RETURN NEW; END $$`,
		`select 1; DO $$ BEGIN DELETE FROM analytics.orders; END $$`,
	} {
		wantRefused(t, e, c, sql)
	}
	// Code that only touches dev runs.
	wantAllowed(t, c, `DO $$ BEGIN DELETE FROM dbt_fabio.dev_orders; INSERT INTO dbt_fabio.dev_orders VALUES (1, 'dev'); END $$`)
	wantAllowed(t, c, `DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM analytics.orders; EXECUTE 'SELECT 1'; END $$`)
	wantAllowed(t, c, `CREATE FUNCTION dbt_fabio.r() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM analytics.orders $$`)
	wantAllowed(t, c, `CREATE FUNCTION dbt_fabio.d() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM ' || 'dbt_fabio.dev_orders'; END $$`)
}

// SELECT … FOR UPDATE/SHARE: a locked reference is never deferred (locking production rows from dev would block
// production's writers), and locking a production relation directly is refused like LOCK TABLE.
func TestGuardSelectForUpdate(t *testing.T) {
	e, c := guardEnv(t)
	ctx := context.Background()
	// Without a locking clause the missing dev relation defers to production …
	if got := queryString(t, c, "select src from dbt_fabio.orders"); got != "prod" {
		t.Fatalf("plain select: want the deferred production row, got %q", got)
	}
	// … with one it does not: PostgreSQL reports the dev relation missing, no production row is locked.
	for _, sql := range []string{
		"select src from dbt_fabio.orders for update",
		"select src from dbt_fabio.orders for no key update",
		"select src from dbt_fabio.orders FOR SHARE",
		"select src from dbt_fabio.orders for key share nowait",
		"select o.src from dbt_fabio.orders o join dbt_fabio.dev_orders d using (id) for update of o",
		"select src from (select * from dbt_fabio.orders) s for update",
	} {
		if _, err := c.Exec(ctx, sql); pgCode(err) != "42P01" {
			t.Errorf("%s: want 42P01 (not deferred), got %v", sql, err)
		}
		if _, err := c.PgConn().ExecParams(ctx, sql, nil, nil, nil, nil).Close(); pgCode(err) != "42P01" {
			t.Errorf("%s (extended): want 42P01 (not deferred), got %v", sql, err)
		}
	}
	// Only the locked item is pinned: the unlocked one still defers.
	if got := queryString(t, c, "select o.src from dbt_fabio.orders o join dbt_fabio.dev_orders d using (id) for update of d"); got != "" && got != "prod" {
		t.Fatalf("FOR UPDATE OF another item: %q", got)
	}
	for _, sql := range []string{
		"select * from analytics.orders for update",
		`select * from "analytics".orders FOR SHARE`,
		"select * from dbt_fabio.dev_orders d, analytics.orders o for update of o",
	} {
		wantRefused(t, e, c, sql)
	}
	wantAllowed(t, c, "select * from dbt_fabio.dev_orders for update")
	wantAllowed(t, c, "select * from dbt_fabio.dev_orders d, analytics.orders o for update of d")
}

// Issue 10 row 9: a write through a dev view lands in the view's base relation; the dev catalog says which it is.
func TestGuardWritesThroughDevViews(t *testing.T) {
	e, c := guardEnv(t)
	exec(t, c, "CREATE VIEW dbt_fabio.v_v_orders AS SELECT * FROM dbt_fabio.v_orders WHERE id > 0") // a view on the view
	for _, sql := range []string{
		"INSERT INTO dbt_fabio.v_orders VALUES (5, 'dev')",
		"UPDATE dbt_fabio.v_orders SET src = 'dev'",
		"DELETE FROM dbt_fabio.v_orders",
		`delete from "dbt_fabio"."V_ORDERS"`, // no such relation: the server says so (not a view)
		"DELETE FROM dbt_fabio.v_v_orders",
		"MERGE INTO dbt_fabio.v_orders t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE",
		"SET search_path = dbt_fabio; DELETE FROM v_orders",
		"select 1; DELETE FROM dbt_fabio.v_orders",
	} {
		if strings.Contains(sql, "V_ORDERS") {
			if _, err := c.Exec(context.Background(), sql); pgCode(err) != "42P01" {
				t.Errorf("%s: want 42P01, got %v", sql, err)
			}
			continue
		}
		wantRefused(t, e, c, sql)
		exec(t, c, "RESET search_path")
	}
	// A view over dev relations is written as usual.
	wantAllowed(t, c, "INSERT INTO dbt_fabio.v_dev VALUES (9, 'dev')")
	wantAllowed(t, c, "DELETE FROM dbt_fabio.v_dev WHERE id = 9")
}
