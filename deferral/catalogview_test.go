package deferral_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// The catalog view (docs/SPEC.md §5.6) through the proxy with pgx. setupSQL's dev schema holds stg_customers only;
// production has customers, orders, raw_payments, stg_customers, stg_payments and the view stg_orders.

// devListing is what pg_class says the dev schema holds (relname:relkind), the query an IDE's tree starts from.
const devListing = `SELECT c.relname || ':' || c.relkind::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'dbt_fabio' AND c.relkind IN ('r', 'v') ORDER BY 1`

var (
	devAsItIs = []string{"stg_customers:r"}
	devViewed = []string{"customers:r", "orders:r", "raw_payments:r", "stg_customers:r", "stg_orders:v", "stg_payments:r"}
)

func strings1(t *testing.T, c *client, sql string, args ...any) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func wantList(t *testing.T, step string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", step, got, want)
	}
}

// TestCatalogViewSetting: off by default; SET, SET LOCAL, rollback, RESET and SHOW follow PostgreSQL's rules for a
// setting; an invalid value is refused with 22023; the startup option and catalog_view_apps turn it on at connect
// time; a dbt session never gets it.
func TestCatalogViewSetting(t *testing.T) {
	e := newEnv(t, envOptions{catalogViewApps: []string{"Metabase*"}})
	ctx := context.Background()
	c := e.connect(t, map[string]string{"application_name": "DataGrip 2026.3"})
	wantList(t, "default", strings1(t, c, devListing), devAsItIs)
	if got := queryString(t, c, "SHOW deferproxy.catalog_view"); got != "off" {
		t.Errorf("SHOW at start: %q", got)
	}
	exec(t, c, "SET deferproxy.catalog_view = on")
	wantList(t, "after SET on", strings1(t, c, devListing), devViewed)
	if got := queryString(t, c, "SHOW deferproxy.catalog_view"); got != "on" {
		t.Errorf("SHOW after SET: %q", got)
	}
	exec(t, c, "BEGIN")
	exec(t, c, "SET LOCAL deferproxy.catalog_view = off")
	wantList(t, "SET LOCAL off in a transaction", strings1(t, c, devListing), devAsItIs)
	exec(t, c, "COMMIT")
	wantList(t, "after the transaction of SET LOCAL", strings1(t, c, devListing), devViewed)
	exec(t, c, "BEGIN")
	exec(t, c, "SET deferproxy.catalog_view TO false")
	exec(t, c, "ROLLBACK")
	wantList(t, "SET undone by ROLLBACK", strings1(t, c, devListing), devViewed)
	exec(t, c, "RESET deferproxy.catalog_view")
	wantList(t, "RESET", strings1(t, c, devListing), devAsItIs)
	if _, err := c.Exec(ctx, "SET deferproxy.catalog_view = maybe"); pgCode(err) != "22023" {
		t.Errorf("invalid value: %v, want 22023", err)
	}

	opt := e.connect(t, map[string]string{"options": "-c deferproxy.catalog_view=on", "application_name": "psql"})
	wantList(t, "startup option", strings1(t, opt, devListing), devViewed)
	exec(t, opt, "RESET deferproxy.catalog_view") // RESET returns to the connect-time value
	wantList(t, "RESET to the startup option", strings1(t, opt, devListing), devViewed)

	app := e.connect(t, map[string]string{"application_name": "metabase v0.52"})
	wantList(t, "catalog_view_apps", strings1(t, app, devListing), devViewed)
	var shown bool
	for _, ss := range e.eng.Status().Sessions {
		if ss.Application == "metabase v0.52" {
			shown = ss.CatalogView
		}
	}
	if !shown {
		t.Errorf("/status does not show the catalog view of the Metabase session: %+v", e.eng.Status().Sessions)
	}
	wantList(t, "a statement with dbt's query comment", strings1(t, app,
		`/* {"app": "dbt", "dbt_version": "1.11.2", "node_id": "model.shop.orders"} */ `+devListing), devAsItIs)

	dbt := e.connect(t, map[string]string{"application_name": "dbt", "options": "-c deferproxy.catalog_view=on"})
	exec(t, dbt, "SET deferproxy.catalog_view = on")
	wantList(t, "a dbt session", strings1(t, dbt, devListing), devAsItIs)
}

// TestCatalogViewAgrees: with the view on, every catalog an IDE reads lists the same relations, each with the
// columns a SELECT of it returns, production's key and indexes and a comment saying where it comes from; and nothing
// is created in the warehouse.
func TestCatalogViewAgrees(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.c.Exec(t, e.db, `ALTER TABLE analytics.stg_payments ADD PRIMARY KEY (id); CREATE INDEX stg_payments_src ON analytics.stg_payments (src);
COMMENT ON TABLE analytics.stg_payments IS 'one row per payment'; COMMENT ON COLUMN analytics.stg_payments.src IS 'which world'`)
	before := directString(t, e, "SELECT count(*)::text FROM pg_class")
	c := e.connect(t, map[string]string{"options": "-c deferproxy.catalog_view=on", "application_name": "DBeaver 25.2"})

	wantList(t, "pg_class", strings1(t, c, devListing), devViewed)
	wantList(t, "information_schema.tables", strings1(t, c, `SELECT table_name || ':' || CASE table_type WHEN 'VIEW' THEN 'v' ELSE 'r' END
FROM information_schema.tables WHERE table_schema = 'dbt_fabio' ORDER BY 1`), devViewed)
	wantList(t, "pg_tables and pg_views", strings1(t, c, `SELECT tablename || ':r' FROM pg_tables WHERE schemaname = 'dbt_fabio'
UNION ALL SELECT viewname || ':v' FROM pg_views WHERE schemaname = 'dbt_fabio' ORDER BY 1`), devViewed)

	for _, rel := range devViewed {
		name := strings.SplitN(rel, ":", 2)[0]
		// What a query of the name returns...
		rows, err := c.Query(context.Background(), "SELECT * FROM dbt_fabio."+name+" LIMIT 0")
		if err != nil {
			t.Fatal(err)
		}
		var data []string
		for _, f := range rows.FieldDescriptions() {
			typ, _ := c.TypeMap().TypeForOID(f.DataTypeOID)
			data = append(data, f.Name+" "+typ.Name)
		}
		rows.Close()
		// ...is what information_schema.columns and pg_attribute say of it.
		wantList(t, name+": information_schema.columns", strings1(t, c, `SELECT column_name || ' ' || udt_name FROM information_schema.columns
WHERE table_schema = 'dbt_fabio' AND table_name = $1 ORDER BY ordinal_position`, name), data)
		wantList(t, name+": pg_attribute", strings1(t, c, `SELECT a.attname || ' ' || t.typname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = 'dbt_fabio' AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, name), data)
	}

	comment := func(rel string) string {
		return queryString(t, c, `SELECT coalesce(d.description, '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass
WHERE n.nspname = 'dbt_fabio' AND c.relname = $1`, rel)
	}
	if got, want := comment("stg_payments"), "deferproxy: not built in dbt_fabio; reads production analytics.stg_payments - one row per payment"; got != want {
		t.Errorf("comment: %q, want %q", got, want)
	}
	if got := comment("stg_customers"); got != "" {
		t.Errorf("the dev model's comment: %q", got)
	}
	if got := queryString(t, c, `SELECT obj_description(c.oid, 'pg_class') || ' / ' || col_description(c.oid, 2) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'dbt_fabio' AND c.relname = 'stg_payments'`); got !=
		"deferproxy: not built in dbt_fabio; reads production analytics.stg_payments - one row per payment / which world" {
		t.Errorf("obj_description / col_description: %q", got)
	}
	wantList(t, "primary key", strings1(t, c, `SELECT ci.relname || ' ' || a.attname FROM pg_index i JOIN pg_class ct ON ct.oid = i.indrelid
JOIN pg_namespace n ON n.oid = ct.relnamespace JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_attribute a ON a.attrelid = ct.oid AND a.attnum = ANY (i.indkey)
WHERE n.nspname = 'dbt_fabio' AND ct.relname = 'stg_payments' AND i.indisprimary`), []string{"stg_payments_pkey id"})
	wantList(t, "pg_indexes", strings1(t, c, `SELECT indexname FROM pg_indexes WHERE schemaname = 'dbt_fabio' ORDER BY 1`),
		[]string{"stg_payments_pkey", "stg_payments_src"})
	wantList(t, "pg_constraint", strings1(t, c, `SELECT co.conname || ' ' || co.contype::text FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'dbt_fabio'`), []string{"stg_payments_pkey p"})
	// Production is described once, as it is.
	wantList(t, "production", strings1(t, c, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'analytics' AND c.relname = 'stg_payments'`), []string{"stg_payments"})

	if after := directString(t, e, "SELECT count(*)::text FROM pg_class"); after != before {
		t.Errorf("pg_class has %s rows after, %s before: the view created something", after, before)
	}
}

// TestCatalogViewFollowsTheData: the view lists what a SELECT of the name reads now — a model built in dev leaves
// it (listed as dev's), dropped it comes back; in favor_state a non-dbt session reads production for every node, so
// the dev copy is hidden and production's is listed; a dev schema that does not exist yet is listed.
func TestCatalogViewFollowsTheData(t *testing.T) {
	e := newEnv(t, envOptions{catalogTTL: 1}) // every statement lists the dev schema again
	c := e.connect(t, map[string]string{"options": "-c deferproxy.catalog_view=on"})
	comment := `SELECT coalesce(obj_description(c.oid, 'pg_class'), 'dev') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'dbt_fabio' AND c.relname = 'stg_payments'`
	wantList(t, "deferred", strings1(t, c, comment), []string{"deferproxy: not built in dbt_fabio; reads production analytics.stg_payments"})
	e.c.Exec(t, e.db, "CREATE TABLE dbt_fabio.stg_payments (id int, src text, extra int)")
	wantList(t, "built in dev", strings1(t, c, comment), []string{"dev"})
	wantList(t, "built in dev: its own columns", strings1(t, c, `SELECT column_name FROM information_schema.columns
WHERE table_schema = 'dbt_fabio' AND table_name = 'stg_payments' ORDER BY ordinal_position`), []string{"id", "src", "extra"})
	e.c.Exec(t, e.db, "DROP TABLE dbt_fabio.stg_payments")
	wantList(t, "dropped again", strings1(t, c, comment), []string{"deferproxy: not built in dbt_fabio; reads production analytics.stg_payments"})

	exec(t, c, "SET deferproxy.mode = favor_state")
	if got := queryString(t, c, "SELECT src FROM dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("favor_state read: %q", got)
	}
	wantList(t, "favor_state: the dev copy replaced by production's", strings1(t, c, `SELECT coalesce(obj_description(c.oid, 'pg_class'), 'dev')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'dbt_fabio' AND c.relname = 'stg_customers'`),
		[]string{"deferproxy: not built in dbt_fabio; reads production analytics.stg_customers"})
	exec(t, c, "RESET deferproxy.mode")

	e.c.Exec(t, e.db, "DROP TABLE dbt_fabio.stg_customers; DROP SCHEMA dbt_fabio")
	wantList(t, "no dev schema yet", strings1(t, c, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbt_fabio%'`), []string{"dbt_fabio"})
	wantList(t, "no dev schema yet: its models", strings1(t, c, devListing),
		[]string{"customers:r", "orders:r", "raw_payments:r", "stg_customers:r", "stg_orders:v", "stg_payments:r"})
}

// TestCatalogViewPreparedStatement: a catalog query prepared while the view was off is prepared again when it is
// turned on (and back), so a cached statement lists what a fresh one does.
func TestCatalogViewPreparedStatement(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, map[string]string{"application_name": "psql"})
	ctx := context.Background()
	if _, err := c.Prepare(ctx, "tree", devListing); err != nil {
		t.Fatal(err)
	}
	run := func() []string {
		rows, err := c.Query(ctx, "tree", pgx.QueryExecModeCacheStatement)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	wantList(t, "prepared, view off", run(), devAsItIs)
	exec(t, c, "SET deferproxy.catalog_view = on")
	wantList(t, "same statement, view on", run(), devViewed)
	exec(t, c, "SET deferproxy.catalog_view = off")
	wantList(t, "same statement, view off again", run(), devAsItIs)
}

// directString asks PostgreSQL itself, not through the proxy.
func directString(t *testing.T, e *env, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.c.URL(pgtest.SuperUser, "", e.db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}
