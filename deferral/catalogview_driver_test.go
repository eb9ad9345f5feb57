package deferral_test

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// The opt-in catalog view (issue 14), proven with the clients IDEs and BI tools use: for a session that is not dbt's,
// with deferproxy.catalog_view on, every deferred model appears in the dev schema with production's metadata
// (relkind, columns, comments, keys, indexes) and a comment naming where it reads from — and nothing is created.

// catalogViewSQL gives production metadata worth copying (on top of setupSQL): stg_payments has a dropped column,
// columns of several types, NOT NULL, a primary key, a unique constraint, a two-column index with a DESC column, a
// table comment and column comments, a column default; the view stg_orders has a comment. dev's own stg_customers (built in dev, so not
// deferred) has a primary key and a comment of its own, and production's stg_customers another column and comment.
const catalogViewSQL = `
ALTER TABLE analytics.stg_payments ADD COLUMN gone int;
ALTER TABLE analytics.stg_payments ADD COLUMN amount numeric(12,2), ADD COLUMN paid_at timestamptz, ADD COLUMN ref varchar(40);
ALTER TABLE analytics.stg_payments DROP COLUMN gone;
UPDATE analytics.stg_payments SET amount = 9.5, paid_at = '2026-01-02 03:04:05+00', ref = 'r1';
ALTER TABLE analytics.stg_payments ALTER COLUMN src SET DEFAULT 'prod';
ALTER TABLE analytics.stg_payments ALTER COLUMN amount SET NOT NULL, ADD PRIMARY KEY (id), ADD CONSTRAINT stg_payments_ref_key UNIQUE (ref);
CREATE INDEX stg_payments_src_paid ON analytics.stg_payments (src, paid_at DESC);
COMMENT ON TABLE analytics.stg_payments IS 'Payments, one row per attempt';
COMMENT ON COLUMN analytics.stg_payments.id IS 'payment id';
COMMENT ON COLUMN analytics.stg_payments.amount IS 'in EUR';
COMMENT ON VIEW analytics.stg_orders IS 'Orders as staged';
ALTER TABLE analytics.stg_customers ADD COLUMN prod_only int;
COMMENT ON TABLE analytics.stg_customers IS 'prod customers';
ALTER TABLE dbt_fabio.stg_customers ADD PRIMARY KEY (id);
COMMENT ON TABLE dbt_fabio.stg_customers IS 'dev build';
`

// builtForRealSQL makes the dev schema hold, as real relations, what the catalog view shows: copies of production's
// deferred relations (LIKE … INCLUDING ALL copies columns, NOT NULL, comments, keys and indexes) with the view's
// comments. DriverCheck's expectations are checked against it directly, so they are PostgreSQL's own answers.
const builtForRealSQL = `
CREATE TABLE dbt_fabio.stg_payments (LIKE analytics.stg_payments INCLUDING ALL);
ALTER INDEX dbt_fabio.stg_payments_src_paid_at_idx RENAME TO stg_payments_src_paid;
COMMENT ON TABLE dbt_fabio.stg_payments IS 'deferproxy: not built in dbt_fabio; reads production analytics.stg_payments - Payments, one row per attempt';
CREATE VIEW dbt_fabio.stg_orders AS SELECT * FROM analytics.stg_orders;
COMMENT ON VIEW dbt_fabio.stg_orders IS 'deferproxy: not built in dbt_fabio; reads production analytics.stg_orders - Orders as staged';
CREATE TABLE dbt_fabio.orders (LIKE analytics.orders INCLUDING ALL);
COMMENT ON TABLE dbt_fabio.orders IS 'deferproxy: not built in dbt_fabio; reads production analytics.orders';
CREATE TABLE dbt_fabio.customers (LIKE analytics.customers INCLUDING ALL);
COMMENT ON TABLE dbt_fabio.customers IS 'deferproxy: not built in dbt_fabio; reads production analytics.customers';
CREATE TABLE dbt_fabio.raw_payments (LIKE analytics.raw_payments INCLUDING ALL);
COMMENT ON TABLE dbt_fabio.raw_payments IS 'deferproxy: not built in dbt_fabio; reads production analytics.raw_payments';
`

// devRelationsAsBuilt is what the fixture's dev schema holds in PostgreSQL: the catalog view must add nothing to it.
const devRelationsAsBuilt = "stg_customers:r:dev build,stg_customers_pkey:i:"

// catalogViewEnv is newEnv with catalogViewSQL applied.
func catalogViewEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := newEnv(t, o)
	e.c.Exec(t, e.db, catalogViewSQL)
	return e
}

// devRelations lists the dev schema's relations (name:relkind:comment) as PostgreSQL holds them, read directly, not
// through the proxy; "no schema" when dbt_fabio does not exist.
func devRelations(t *testing.T, e *env) string {
	t.Helper()
	return directString(t, e, `select case when exists (select from pg_namespace where nspname = 'dbt_fabio') then
		coalesce((select string_agg(c.relname || ':' || c.relkind::text || ':' || coalesce(d.description, ''), ',' order by c.relname)
		  from pg_class c join pg_namespace n on n.oid = c.relnamespace
		  left join pg_description d on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
		  where n.nspname = 'dbt_fabio'), '') else 'no schema' end`)
}

// TestPgjdbcCatalogView: pgjdbc's DatabaseMetaData (an IDE's schema tree) with the catalog view on by SET (and a
// server-prepared metadata statement following SET off and on), by the startup option, by catalog_view_apps matching
// the ApplicationName, and by a HikariCP pool's connectionInitSql; a dbt session never gets it. The same expectations
// first pass straight against PostgreSQL on a dev schema really built that way (the control).
func TestPgjdbcCatalogView(t *testing.T) {
	driverCheck := compileDriverCheck(t)
	t.Run("control", func(t *testing.T) {
		c := pgtest.Shared(t)
		db := c.NewDatabase(t)
		c.Exec(t, db, setupSQL+catalogViewSQL+builtForRealSQL)
		runDriverCheck(t, driverCheck("jdbc:postgresql://"+c.Addr()+"/"+db, "catalogviewControl"), "catalogviewControl")
	})
	e := catalogViewEnv(t, envOptions{catalogViewApps: []string{"DBeaver*", "data*", "db*"}})
	if got := devRelations(t, e); got != devRelationsAsBuilt {
		t.Fatalf("dev schema before: %q", got)
	}
	url := "jdbc:postgresql://" + e.addr + "/" + e.db
	for _, scenario := range []string{"catalogview", "catalogviewOption", "catalogviewAppsStartup", "catalogviewDbtStartup", "catalogviewHikari",
		// pgjdbc's default: ApplicationName arrives by SET application_name after the startup packet.
		"catalogviewApps", "catalogviewDbt"} {
		t.Run(scenario, func(t *testing.T) {
			runDriverCheck(t, driverCheck(url, scenario), scenario)
		})
	}
	if got := devRelations(t, e); got != devRelationsAsBuilt {
		t.Errorf("the catalog view changed the dev schema: %q, want %q", got, devRelationsAsBuilt)
	}
}

// TestPsqlCatalogView: psql's \dt, \dv and \d of the dev schema with PGOPTIONS='-c deferproxy.catalog_view=on':
// the deferred models are listed, and \d of one prints what \d of production's prints (columns, types, NOT NULL,
// keys, indexes) but for the schema in its title.
func TestPsqlCatalogView(t *testing.T) {
	bin, _, err := pgtest.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	e := catalogViewEnv(t, envOptions{})
	url := "postgresql://" + pgtest.SuperUser + "@" + e.addr + "/" + e.db + "?sslmode=disable&application_name=psql"
	// psql exits 1 when \d finds nothing; the output says what it found.
	psql := func(options string, args ...string) string {
		cmd := osexec.Command(filepath.Join(bin, "psql"), append([]string{"-X", "-d", url}, args...)...)
		cmd.Env = append(os.Environ(), "PGOPTIONS="+options)
		out, _ := cmd.CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	const on = "-c deferproxy.catalog_view=on"
	if out := psql("", "-A", "-t", "-c", `\dt dbt_fabio.*`); out != "dbt_fabio|stg_customers|table|postgres" {
		t.Errorf(`\dt dbt_fabio.* without the view: %q`, out)
	}
	want := strings.Join([]string{
		"dbt_fabio|customers|table|postgres", "dbt_fabio|orders|table|postgres", "dbt_fabio|raw_payments|table|postgres",
		"dbt_fabio|stg_customers|table|postgres", "dbt_fabio|stg_payments|table|postgres"}, "\n")
	if out := psql(on, "-A", "-t", "-c", `\dt dbt_fabio.*`); out != want {
		t.Errorf("\\dt dbt_fabio.* with the view:\n%s\nwant\n%s", out, want)
	}
	if out := psql(on, "-A", "-t", "-c", `\dv dbt_fabio.*`); out != "dbt_fabio|stg_orders|view|postgres" {
		t.Errorf(`\dv dbt_fabio.*: %q`, out)
	}
	for _, c := range []struct{ name, kind, contains string }{
		{"stg_payments", "Table", `"stg_payments_src_paid" btree (src, paid_at DESC)`},
		{"stg_orders", "View", "src    | text    |           |          |"},
		{"orders", "Table", "src    | text    |           |          |"},
	} {
		prod := psql("", "-c", `\d analytics.`+c.name)
		if !strings.Contains(prod, c.contains) {
			t.Fatalf("\\d analytics.%s (directly describing production) lacks %q:\n%s", c.name, c.contains, prod)
		}
		want := strings.Replace(prod, c.kind+` "analytics.`+c.name+`"`, c.kind+` "dbt_fabio.`+c.name+`"`, 1)
		if got := psql(on, "-c", `\d dbt_fabio.`+c.name); got != want {
			t.Errorf("\\d dbt_fabio.%s with the view:\n%s\nwant (production's):\n%s", c.name, got, want)
		}
	}
	// Production's indexes, listed from the index side (\di), each once: a shown relation's index rows must not
	// duplicate them.
	want = strings.Join([]string{"analytics|stg_payments_pkey|index|postgres|stg_payments",
		"analytics|stg_payments_ref_key|index|postgres|stg_payments", "analytics|stg_payments_src_paid|index|postgres|stg_payments"}, "\n")
	if out := psql(on, "-A", "-t", "-c", `\di analytics.*`); out != want {
		t.Errorf("\\di analytics.* with the view:\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(psql("", "-c", `\d analytics.stg_payments`), `"stg_payments_pkey" PRIMARY KEY, btree (id)`) {
		t.Errorf(`\d analytics.stg_payments lacks the primary key`)
	}
	// The model built in dev is described as dev's (production's has a column prod_only).
	if out := psql(on, "-c", `\d dbt_fabio.stg_customers`); !strings.Contains(out, `"stg_customers_pkey" PRIMARY KEY, btree (id)`) || strings.Contains(out, "prod_only") {
		t.Errorf(`\d dbt_fabio.stg_customers: %s`, out)
	}
	if got := devRelations(t, e); got != devRelationsAsBuilt {
		t.Errorf("the catalog view changed the dev schema: %q, want %q", got, devRelationsAsBuilt)
	}
}

// rowsOf runs a query through c and renders each row's values "|"-joined.
func rowsOf(t *testing.T, c *client, sql string, args ...any) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// wantIndexDefs compares pg_indexes rows (tablename|indexname|indexdef) with want's (tablename|indexname|end of
// indexdef): the names exactly, the definition by its USING clause.
func wantIndexDefs(t *testing.T, step string, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		names, def, _ := strings.Cut(want[i], "|USING ")
		ok = strings.HasPrefix(got[i], names+"|") && strings.HasSuffix(got[i], " USING "+def)
	}
	if !ok {
		t.Errorf("%s:\n%s\nwant (tablename|indexname|…indexdef)\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The catalog queries of TestCatalogViewCopiesProductionMetadata, each with $1 the schema.
const (
	qTables = `select table_name, table_type from information_schema.tables where table_schema = $1 order by 1`
	qColumn = `select table_name, column_name, ordinal_position, data_type, is_nullable, character_maximum_length, numeric_precision, numeric_scale
		from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`
	qPgTables  = `select tablename, hasindexes from pg_tables where schemaname = $1 order by 1`
	qPgIndexes = `select tablename, indexname, indexdef from pg_indexes where schemaname = $1 order by 2`
	qCons      = `select c.relname, con.conname, con.contype::text from pg_constraint con join pg_class c on c.oid = con.conrelid
		join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 order by 2`
	qComment = `select d.description from pg_class c join pg_namespace n on n.oid = c.relnamespace
		join pg_description d on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
		where n.nspname = $1 and c.relname = $2`
)

// TestCatalogViewCopiesProductionMetadata (with catalogview_test.go's tests of the setting and of the listings): the
// setting's boolean spellings and the startup parameter; then, with the view on, what production's metadata looks
// like in the dev schema to pgx — information_schema.columns row for row (types, lengths, precision, NOT NULL,
// production's attnum past a dropped column), information_schema.views, pg_tables, pg_indexes with their definitions,
// pg_constraint (primary key and unique), pg_description, the synthetic oid, DBeaver's pg_class.* by namespace oid, a
// role that owns nothing; favor_state's replaced dev relation; a dbt
// session's listing queries; a dev schema that does not exist yet (and is not created).
func TestCatalogViewCopiesProductionMetadata(t *testing.T) {
	e := catalogViewEnv(t, envOptions{})
	c := e.connect(t, map[string]string{"application_name": "DataGrip 2024.3"})
	show := func(c *client) string { return queryString(t, c, "show deferproxy.catalog_view") }
	tables := func(c *client) []string { return rowsOf(t, c, qTables, "dbt_fabio") }
	asIs := []string{"stg_customers|BASE TABLE"}
	viewed := []string{"customers|BASE TABLE", "orders|BASE TABLE", "raw_payments|BASE TABLE", "stg_customers|BASE TABLE",
		"stg_orders|VIEW", "stg_payments|BASE TABLE"}

	// The setting: a boolean as PostgreSQL reads it.
	for _, v := range []struct{ value, want string }{{"on", "on"}, {"off", "off"}, {"true", "on"}, {"false", "off"},
		{"1", "on"}, {"0", "off"}, {"yes", "on"}, {"'on'", "on"}, {"no", "off"}} {
		exec(t, c, "SET deferproxy.catalog_view = "+v.value)
		if got := show(c); got != v.want {
			t.Errorf("SET deferproxy.catalog_view = %s: SHOW %q, want %q", v.value, got, v.want)
		}
	}
	wantList(t, "information_schema.tables, off", tables(c), asIs)
	exec(t, c, "SET deferproxy.catalog_view TO on")

	wantList(t, "information_schema.tables", tables(c), viewed)
	for _, x := range []string{"stg_payments", "stg_orders", "orders", "customers", "raw_payments"} {
		prod := rowsOf(t, c, qColumn, "analytics", x)
		if len(prod) < 2 {
			t.Fatalf("production's information_schema.columns of %s: %q", x, prod)
		}
		wantList(t, "information_schema.columns of "+x+" = production's", rowsOf(t, c, qColumn, "dbt_fabio", x), prod)
	}
	// ordinal_position is production's attnum: the dropped column keeps its number.
	wantList(t, "information_schema.columns of stg_payments", rowsOf(t, c, qColumn, "dbt_fabio", "stg_payments"), []string{
		"stg_payments|id|1|integer|NO|<nil>|32|0", "stg_payments|src|2|text|YES|<nil>|<nil>|<nil>",
		"stg_payments|amount|4|numeric|NO|<nil>|12|2", "stg_payments|paid_at|5|timestamp with time zone|YES|<nil>|<nil>|<nil>",
		"stg_payments|ref|6|character varying|YES|40|<nil>|<nil>"})
	// The model built in dev appears once, as dev's.
	wantList(t, "information_schema.columns of stg_customers, built in dev", rowsOf(t, c, qColumn, "dbt_fabio", "stg_customers"),
		[]string{"stg_customers|id|1|integer|NO|<nil>|32|0", "stg_customers|src|2|text|YES|<nil>|<nil>|<nil>"})
	wantList(t, "information_schema.views", rowsOf(t, c, `select table_name from information_schema.views where table_schema = 'dbt_fabio'`),
		[]string{"stg_orders"})
	wantList(t, "pg_tables", rowsOf(t, c, qPgTables, "dbt_fabio"), []string{
		"customers|false", "orders|false", "raw_payments|false", "stg_customers|true", "stg_payments|true"})
	// pg_indexes: the names exact; indexdef is pg_get_indexdef's, whose ON clause is not part of the contract.
	wantIndexDefs(t, "pg_indexes", rowsOf(t, c, qPgIndexes, "dbt_fabio"), []string{
		"stg_customers|stg_customers_pkey|USING btree (id)", "stg_payments|stg_payments_pkey|USING btree (id)",
		"stg_payments|stg_payments_ref_key|USING btree (ref)", "stg_payments|stg_payments_src_paid|USING btree (src, paid_at DESC)"})
	wantList(t, "pg_constraint", rowsOf(t, c, qCons, "dbt_fabio"), []string{
		"stg_customers|stg_customers_pkey|p", "stg_payments|stg_payments_pkey|p", "stg_payments|stg_payments_ref_key|u"})
	wantList(t, "pg_description of stg_payments", rowsOf(t, c, qComment, "dbt_fabio", "stg_payments"),
		[]string{"deferproxy: not built in dbt_fabio; reads production analytics.stg_payments - Payments, one row per attempt"})
	wantList(t, "pg_description of stg_customers, built in dev", rowsOf(t, c, qComment, "dbt_fabio", "stg_customers"), []string{"dev build"})
	// The synthetic relation's oid is 4294967295 minus production's.
	wantList(t, "the synthetic oid", rowsOf(t, c, `select 4294967295 - c.oid::int8 from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = 'dbt_fabio' and c.relname = 'stg_payments'`), []string{directString(t, e, "select 'analytics.stg_payments'::regclass::oid::text")})

	// DBeaver's table list: pg_class.* filtered by the namespace's oid, which an earlier query returned.
	var nsp uint32
	if err := c.QueryRow(context.Background(), "select oid from pg_namespace where nspname = 'dbt_fabio'").Scan(&nsp); err != nil {
		t.Fatal(err)
	}
	wantList(t, "pg_class.* by relnamespace = $1", rowsOf(t, c, `select s.relname, s.relkind::text, s.relnatts from (select c.oid, c.*, d.description
		from pg_catalog.pg_class c left join pg_catalog.pg_description d on d.objoid = c.oid and d.objsubid = 0 and d.classoid = 'pg_class'::regclass
		where c.relnamespace = $1 and c.relkind not in ('i', 'I', 'c')) s order by 1`, nsp), []string{
		"customers|r|2", "orders|r|2", "raw_payments|r|3", "stg_customers|r|2", "stg_orders|v|2", "stg_payments|r|6"})

	// A developer's role that owns nothing and reads production by grants: information_schema filters rows by
	// privilege on the relation's oid, and still lists the shown relations.
	e.c.Exec(t, e.db, "GRANT USAGE ON SCHEMA analytics, dbt_fabio TO trust_user; GRANT SELECT ON ALL TABLES IN SCHEMA analytics, dbt_fabio TO trust_user")
	cfg, err := pgx.ParseConfig("postgres://trust_user@" + e.addr + "/" + e.db + "?sslmode=disable&options=-c%20deferproxy.catalog_view%3Don")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connect as trust_user: %v", err)
	}
	defer conn.Close(context.Background())
	dev := &client{Conn: conn}
	wantList(t, "information_schema.tables, a role that owns nothing", tables(dev), viewed)
	wantList(t, "information_schema.columns of stg_payments, a role that owns nothing", rowsOf(t, dev, qColumn, "dbt_fabio", "stg_payments"),
		rowsOf(t, c, qColumn, "dbt_fabio", "stg_payments"))

	// favor_state: stg_customers exists in dev but is deferred; production's replaces it, once, without dev's key.
	exec(t, c, "SET deferproxy.mode = favor_state")
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("favor_state read: %q", got)
	}
	wantList(t, "favor_state: columns of stg_customers", rowsOf(t, c, qColumn, "dbt_fabio", "stg_customers"), []string{
		"stg_customers|id|1|integer|YES|<nil>|32|0", "stg_customers|src|2|text|YES|<nil>|<nil>|<nil>", "stg_customers|prod_only|3|integer|YES|<nil>|32|0"})
	wantList(t, "favor_state: pg_class rows of stg_customers", rowsOf(t, c, `select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = 'dbt_fabio' and c.relname = 'stg_customers'`), []string{"1"})
	wantList(t, "favor_state: comment of stg_customers", rowsOf(t, c, qComment, "dbt_fabio", "stg_customers"),
		[]string{"deferproxy: not built in dbt_fabio; reads production analytics.stg_customers - prod customers"})
	wantIndexDefs(t, "favor_state: pg_indexes (dev's key of stg_customers hidden)", rowsOf(t, c, qPgIndexes, "dbt_fabio"), []string{
		"stg_payments|stg_payments_pkey|USING btree (id)", "stg_payments|stg_payments_ref_key|USING btree (ref)",
		"stg_payments|stg_payments_src_paid|USING btree (src, paid_at DESC)"})
	exec(t, c, "RESET deferproxy.mode")

	// The startup parameter itself (not in options), and RESET returning to it.
	c2 := e.connect(t, map[string]string{"deferproxy.catalog_view": "on"})
	if got := show(c2); got != "on" {
		t.Errorf("startup parameter: SHOW %q", got)
	}
	wantList(t, "information_schema.tables, startup parameter", tables(c2), viewed)
	exec(t, c2, "SET deferproxy.catalog_view = off")
	exec(t, c2, "RESET deferproxy.catalog_view")
	if got := show(c2); got != "on" {
		t.Errorf("RESET after the startup parameter: %q", got)
	}

	// dbt's own listing queries (information_schema.tables, pg_tables, pg_views) in a dbt session that asked for the view.
	dbt := e.connect(t, map[string]string{"application_name": "dbt", "options": "-c deferproxy.catalog_view=on"})
	exec(t, dbt, "SET deferproxy.catalog_view = on")
	wantList(t, "dbt: information_schema.tables", tables(dbt), asIs)
	wantList(t, "dbt: pg_tables", rowsOf(t, dbt, qPgTables, "dbt_fabio"), []string{"stg_customers|true"})
	wantList(t, "dbt: pg_views", rowsOf(t, dbt, `select viewname from pg_views where schemaname = 'dbt_fabio'`), nil)

	if got := devRelations(t, e); got != devRelationsAsBuilt {
		t.Errorf("the catalog view changed the dev schema: %q, want %q", got, devRelationsAsBuilt)
	}

	// A dev schema that does not exist yet: listed with every deferred model, and not created.
	e2 := catalogViewEnv(t, envOptions{})
	e2.c.Exec(t, e2.db, "DROP SCHEMA dbt_fabio CASCADE")
	c3 := e2.connect(t, map[string]string{"options": "-c deferproxy.catalog_view=on"})
	wantList(t, "missing dev schema: information_schema.tables", tables(c3), viewed)
	wantList(t, "missing dev schema: columns of stg_customers (production's)", rowsOf(t, c3, qColumn, "dbt_fabio", "stg_customers"), []string{
		"stg_customers|id|1|integer|YES|<nil>|32|0", "stg_customers|src|2|text|YES|<nil>|<nil>|<nil>", "stg_customers|prod_only|3|integer|YES|<nil>|32|0"})
	if got := devRelations(t, e2); got != "no schema" {
		t.Errorf("the catalog view created the dev schema: %q", got)
	}
}

// TestCatalogViewSetInAMultiStatementQuery: a SET of the view in a simple-protocol Query string decides the
// statements after it in that string, and only those (psql -c 'SET …; SELECT …', a script run as one Query).
func TestCatalogViewSetInAMultiStatementQuery(t *testing.T) {
	e := catalogViewEnv(t, envOptions{})
	c := e.connect(t, nil)
	const count = "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dbt_fabio' and c.relkind in ('r', 'v')"
	for _, sql := range []string{
		"SET deferproxy.catalog_view = on; " + count,
		"SET deferproxy.catalog_view = off; " + count,
		"SET deferproxy.catalog_view = off; " + count + "; SET deferproxy.catalog_view = on; " + count,
		"SET deferproxy.catalog_view = on; " + count + "; SET deferproxy.catalog_view = off; " + count,
	} {
		results, err := c.PgConn().Exec(context.Background(), sql).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		var got, want []string
		for _, r := range results {
			if r.CommandTag.String() != "SET" {
				got = append(got, string(r.Rows[0][0]))
			}
		}
		view := false
		for _, part := range strings.Split(sql, "; ") {
			switch part {
			case "SET deferproxy.catalog_view = on":
				view = true
			case "SET deferproxy.catalog_view = off":
				view = false
			default:
				want = append(want, map[bool]string{true: "6", false: "1"}[view])
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: the dev schema's tables and views, statement by statement: %v, want %v", sql, got, want)
		}
	}
}

// TestModeSetInAMultiStatementQuery: the same for deferproxy.mode.
func TestModeSetInAMultiStatementQuery(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	results, err := c.PgConn().Exec(context.Background(), "SET deferproxy.mode = favor_state; select src from dbt_fabio.stg_customers; "+
		"SET deferproxy.mode = defer; select src from dbt_fabio.stg_customers").ReadAll()
	if err != nil || len(results) != 4 {
		t.Fatalf("%v %+v", err, results)
	}
	if got := string(results[1].Rows[0][0]) + "," + string(results[3].Rows[0][0]); got != "prod,dev" {
		t.Errorf("favor_state then defer in one Query: %s, want prod,dev", got)
	}
}
