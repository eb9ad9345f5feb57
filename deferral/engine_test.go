package deferral_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// setupSQL builds production (analytics), a source (raw) and a dev schema (dbt_fabio) where only stg_customers
// exists. Every relation has a src column telling which world a row came from.
const setupSQL = `
CREATE SCHEMA analytics; CREATE SCHEMA raw; CREATE SCHEMA dbt_fabio;
CREATE TABLE analytics.raw_payments (id int, amount int, src text); INSERT INTO analytics.raw_payments VALUES (1, 100, 'prod');
CREATE VIEW analytics.stg_orders AS SELECT 1 AS id, 'prod'::text AS src;
CREATE TABLE analytics.stg_customers (id int, src text); INSERT INTO analytics.stg_customers VALUES (1, 'prod');
CREATE TABLE analytics.stg_payments (id int, src text); INSERT INTO analytics.stg_payments VALUES (1, 'prod');
CREATE TABLE analytics.orders (id int, src text); INSERT INTO analytics.orders VALUES (1, 'prod');
CREATE TABLE analytics.customers (id int, src text); INSERT INTO analytics.customers VALUES (1, 'prod');
CREATE TABLE raw.events (id int, src text); INSERT INTO raw.events VALUES (1, 'source');
CREATE TABLE dbt_fabio.stg_customers (id int, src text); INSERT INTO dbt_fabio.stg_customers VALUES (1, 'dev');
`

// env is one database with production and dev schemas, a defer engine and an in-process proxy in front of it.
type env struct {
	c    *pgtest.Cluster
	db   string
	eng  *deferral.Engine
	srv  *proxy.Server
	addr string
}

type envOptions struct {
	catalogDSN      string // default: the cluster
	onCatalogError  string
	mode            string
	notices         string
	generatedAt     time.Time
	catalogTTL      time.Duration          // default: the engine's (10 s)
	catalogViewApps []string               // application names whose sessions start with the catalog view on
	manifest        func(db string) string // writes the production manifest (default: writeManifest's)
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	c := pgtest.Shared(t)
	db := c.NewDatabase(t)
	c.Exec(t, db, setupSQL)
	if o.generatedAt.IsZero() {
		o.generatedAt = time.Now().Add(-time.Hour)
	}
	if o.catalogDSN == "" {
		o.catalogDSN = c.URL(pgtest.SuperUser, "", db)
	}
	var manifest string
	if o.manifest != nil {
		manifest = o.manifest(db)
	} else {
		manifest = writeManifest(t, db, o.generatedAt)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	eng, err := deferral.New(ctx, deferral.Config{
		Manifest: manifest,
		// The production run's link comes from manifest_run_url for a file source (docs/SPEC.md §7).
		ManifestOptions: catalog.StoreOptions{RunURLTemplate: "https://ci.example/runs/{invocation_id}"},
		DevSchema:       "dbt_fabio",
		Mode:            o.mode,
		CatalogDSN:      o.catalogDSN,
		CatalogTTL:      o.catalogTTL,
		CatalogTimeout:  10 * time.Second, // generous: the machine is shared; an unreachable catalog fails fast anyway
		OnCatalogError:  o.onCatalogError,
		Notices:         o.notices,
		CatalogViewApps: o.catalogViewApps,
		Logger:          log,
	})
	if err != nil {
		t.Fatalf("deferral.New: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	srv, err := proxy.New(proxy.Config{
		Listen:   "127.0.0.1:0",
		Upstream: c.URL(pgtest.SuperUser, "", db),
		Logger:   log,
		Hook:     proxy.EngineHook(eng),
	})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		<-done
	})
	return &env{c: c, db: db, eng: eng, srv: srv, addr: ln.Addr().String()}
}

// client is a pgx connection through the proxy that records the notices it receives.
type client struct {
	*pgx.Conn
	mu      sync.Mutex
	notices []*pgconn.Notice
}

func (c *client) takeNotices() []*pgconn.Notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.notices
	c.notices = nil
	return n
}

func (e *env) connect(t testing.TB, params map[string]string) *client {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://" + pgtest.SuperUser + "@" + e.addr + "/" + e.db + "?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	// pgx's default caches named prepared statements: a statement re-executed without a new Parse keeps the
	// decision made at its first Parse (the hook sees Parse, not Bind). DescribeExec parses (unnamed) every time,
	// which is what these tests need to see a changing dev catalog; TestExtendedProtocolKeepsParamOIDs covers named
	// statements.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	cl := &client{}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		cl.mu.Lock()
		cl.notices = append(cl.notices, n)
		cl.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	cl.Conn = conn
	return cl
}

func queryString(t *testing.T, c *client, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := c.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func exec(t *testing.T, c *client, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func findNotice(ns []*pgconn.Notice, severity, contains string) *pgconn.Notice {
	for _, n := range ns {
		if n.Severity == severity && strings.Contains(n.Message, contains) {
			return n
		}
	}
	return nil
}

func TestDeferMissingAndExisting(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)

	// dbt_fabio.stg_orders does not exist in dev: production answers, and the client is told.
	if got := queryString(t, c, "select src from dbt_fabio.stg_orders"); got != "prod" {
		t.Fatalf("missing dev relation: got %q, want prod", got)
	}
	ns := c.takeNotices()
	n := findNotice(ns, "NOTICE", "deferred 1 relation to production run shop 4f1c2a9e")
	if n == nil {
		t.Fatalf("no deferral notice; got %+v", ns)
	}
	if !strings.Contains(n.Message, "dbt_fabio.stg_orders → analytics.stg_orders") || n.Code != "00000" {
		t.Errorf("notice = %q (code %s)", n.Message, n.Code)
	}
	if !strings.Contains(n.Detail, "invocation_id 4f1c2a9e") || !strings.Contains(n.Detail, "https://ci.example/runs/4f1c2a9e") {
		t.Errorf("first notice of the session should name the production run; detail %q", n.Detail)
	}

	// dbt_fabio.stg_customers exists in dev: the dev relation answers, no notice.
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "dev" {
		t.Fatalf("existing dev relation: got %q, want dev", got)
	}
	if ns := c.takeNotices(); len(ns) != 0 {
		t.Errorf("unexpected notices %+v", ns)
	}

	// Second deferral of the session: notice without the production run details (notices: first).
	if got := queryString(t, c, `select o.src || '/' || cu.src from "dbt_fabio"."stg_orders" o join dbt_fabio.stg_customers cu using (id)`); got != "prod/dev" {
		t.Fatalf("join: got %q, want prod/dev", got)
	}
	ns = c.takeNotices()
	if n := findNotice(ns, "NOTICE", "deferred 1 relation"); n == nil || n.Detail != "" {
		t.Errorf("second notice: %+v", ns)
	}

	// Sources, prod names and relations that map to no node pass unchanged.
	if got := queryString(t, c, "select src from raw.events"); got != "source" {
		t.Fatalf("source: %q", got)
	}
	if _, err := c.Exec(context.Background(), "select * from dbt_fabio.not_a_model"); pgCode(err) != "42P01" {
		t.Fatalf("unknown dev relation: want 42P01 from the server, got %v", err)
	}
	st := e.eng.Status()
	if st.Production != nil && (st.Production.RunID != st.Production.InvocationID || st.Production.URL != "https://ci.example/runs/"+st.Production.RunID ||
		st.ProductionSource == nil || st.ProductionSource.LastCheck.IsZero() || st.ProductionSource.Kind != "file") {
		t.Errorf("run identity and source health: %+v, %+v", st.Production, st.ProductionSource)
	}
	if st.Deferrals < 2 || st.Production == nil || st.Production.InvocationID == "" || len(st.Sessions) != 1 || len(st.Recent) < 2 {
		t.Errorf("status = %+v", st)
	}
}

func TestFavorStateBySetAndStartupOption(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	c := e.connect(t, nil)
	if got := queryString(t, c, "show deferproxy.mode"); got != "defer" {
		t.Fatalf("SHOW deferproxy.mode = %q", got)
	}
	exec(t, c, "SET deferproxy.mode = 'favor_state'")
	if got := queryString(t, c, "SHOW deferproxy.mode"); got != "favor_state" {
		t.Fatalf("after SET: %q", got)
	}
	// favor_state: stg_customers exists in dev but is not selected, so production answers.
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("favor_state: got %q, want prod", got)
	}
	// The executing node itself (from dbt's query comment) is never deferred.
	q := `/* {"app": "dbt", "dbt_version": "1.11.2", "profile_name": "p", "target_name": "dev", "node_id": "model.shop.stg_customers"} */ select src from dbt_fabio.stg_customers`
	if got := queryString(t, c, q); got != "dev" {
		t.Fatalf("executing node: got %q, want dev", got)
	}
	// Invalid values are refused like PostgreSQL refuses them.
	if _, err := c.Exec(ctx, "SET deferproxy.mode = 'sideways'"); pgCode(err) != "22023" {
		t.Fatalf("invalid mode: want 22023, got %v", err)
	}
	// A SET rolled back is undone, as for any setting.
	exec(t, c, "BEGIN")
	exec(t, c, "SET deferproxy.mode = off")
	exec(t, c, "ROLLBACK")
	if got := queryString(t, c, "SHOW deferproxy.mode"); got != "favor_state" {
		t.Fatalf("after rolled-back SET: %q", got)
	}
	exec(t, c, "RESET deferproxy.mode")
	// SET SESSION, in a multi-statement string followed by a read that the new mode already decides.
	results, err := c.PgConn().Exec(ctx, "SET SESSION deferproxy.mode TO favor_state; select src from dbt_fabio.stg_customers").ReadAll()
	if err != nil || len(results) != 2 || string(results[1].Rows[0][0]) != "prod" {
		t.Fatalf("SET SESSION + read: %v %+v", err, results)
	}
	exec(t, c, "RESET deferproxy.mode")
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "dev" {
		t.Fatalf("after RESET: got %q, want dev", got)
	}
	// SHOW deferproxy.status answers one row naming the production run.
	if got := queryString(t, c, "SHOW deferproxy.status"); !strings.Contains(got, "4f1c2a9e") {
		t.Fatalf("SHOW deferproxy.status = %q", got)
	}

	// Startup option, as psql's PGOPTIONS or a dbt profile's options would send it.
	c2 := e.connect(t, map[string]string{"options": "-c deferproxy.mode=favor_state"})
	if got := queryString(t, c2, "select src from dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("startup favor_state: got %q, want prod", got)
	}
	if got := queryString(t, c2, "show deferproxy.mode"); got != "favor_state" {
		t.Fatalf("startup SHOW: %q", got)
	}
	// RESET returns to the connect-time value.
	exec(t, c2, "SET deferproxy.mode = off")
	exec(t, c2, "RESET deferproxy.mode")
	if got := queryString(t, c2, "show deferproxy.mode"); got != "favor_state" {
		t.Fatalf("RESET after startup option: %q", got)
	}
}

func TestProductionWriteGuard(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	ctx := context.Background()
	for _, sql := range []string{
		"insert into analytics.orders values (2, 'dev')",
		"update analytics.orders set src = 'dev'",
		"delete from analytics.orders",
		"drop table analytics.orders",
		"truncate analytics.orders",
		"create table analytics.new_thing as select 1",
		`insert into "analytics"."orders" select id, src from dbt_fabio.stg_customers`,
	} {
		_, err := c.Exec(ctx, sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Fatalf("%s: want 42501, got %v", sql, err)
		}
		if !strings.Contains(pe.Message, "analytics.") || !strings.Contains(pe.Hint, "allow_prod_writes: true") || !strings.Contains(pe.Hint, "--allow-prod-writes") {
			t.Errorf("%s: error does not name the relation and how to allow it: %q / %q", sql, pe.Message, pe.Hint)
		}
	}
	// Production is unchanged and the session still works.
	if got := queryString(t, c, "select count(*)::text || max(src) from analytics.orders"); got != "1prod" {
		t.Fatalf("production changed: %q", got)
	}
	// A refused statement inside a transaction fails it, as a PostgreSQL error would.
	exec(t, c, "BEGIN")
	if _, err := c.Exec(ctx, "delete from analytics.orders"); pgCode(err) != "42501" {
		t.Fatalf("in tx: %v", err)
	}
	if _, err := c.Exec(ctx, "select 1"); pgCode(err) != "25P02" {
		t.Fatalf("after refusal in tx: want 25P02, got %v", err)
	}
	exec(t, c, "ROLLBACK")
	// Writes into dev are fine.
	exec(t, c, "insert into dbt_fabio.stg_customers values (2, 'dev2')")
}

func TestCreateTableAsAndInvalidation(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	// CTAS in dev reading a deferred relation: the new dev table is built from production.
	exec(t, c, "create table dbt_fabio.orders as select id, src || '-built' as src from dbt_fabio.stg_orders")
	if got := queryString(t, c, "select src from dbt_fabio.orders"); got != "prod-built" {
		t.Fatalf("dev orders after CTAS: %q (want prod-built: it now exists in dev)", got)
	}
	// A dev view over a deferred relation gets the warning.
	c.takeNotices()
	exec(t, c, "create view dbt_fabio.customers as select * from dbt_fabio.stg_orders")
	if n := findNotice(c.takeNotices(), "WARNING", "production rebuild"); n == nil {
		t.Errorf("no dev-view-over-production warning")
	}

	// Invalidation after DROP: stg_customers existed in dev (cached), is dropped, then production answers.
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "dev" {
		t.Fatalf("before drop: %q", got)
	}
	exec(t, c, "drop table dbt_fabio.stg_customers")
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("after drop: %q", got)
	}
	// Another session sees the change too (the shared dev catalog was invalidated at commit).
	c2 := e.connect(t, nil)
	if got := queryString(t, c2, "select src from dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("other session after drop: %q", got)
	}
}

func TestSameTransactionCreate(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	// Warm the shared cache: stg_payments missing in dev.
	if got := queryString(t, c, "select src from dbt_fabio.stg_payments"); got != "prod" {
		t.Fatalf("before: %q", got)
	}
	exec(t, c, "BEGIN")
	exec(t, c, "create table dbt_fabio.stg_payments as select 1 as id, 'devtx'::text as src")
	if got := queryString(t, c, "select src from dbt_fabio.stg_payments"); got != "devtx" {
		t.Fatalf("created earlier in the same transaction: got %q, want devtx (not deferred)", got)
	}
	exec(t, c, "ROLLBACK")
	if got := queryString(t, c, "select src from dbt_fabio.stg_payments"); got != "prod" {
		t.Fatalf("after rollback: got %q, want prod", got)
	}
}

func TestExtendedProtocolKeepsParamOIDs(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	ctx := context.Background()
	// Parse with an explicit parameter type (int8) that PostgreSQL would not infer by itself (int4).
	sd, err := c.PgConn().Prepare(ctx, "q1", "select src from dbt_fabio.stg_orders where id = $1", []uint32{20})
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != 20 {
		t.Fatalf("param OIDs after rewrite = %v, want [20]", sd.ParamOIDs)
	}
	res := c.PgConn().ExecPrepared(ctx, "q1", [][]byte{[]byte("1")}, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "prod" {
		t.Fatalf("execute prepared: %v %q", res.Err, res.Rows)
	}
	// pgx's default (extended protocol, cached statements) with a bind value.
	if got := queryString(t, c, "select src from dbt_fabio.stg_orders where id = $1", 1); got != "prod" {
		t.Fatalf("pgx extended: %q", got)
	}
	// SHOW through the extended protocol.
	if got := queryString(t, c, "show deferproxy.mode"); got != "defer" {
		t.Fatalf("extended SHOW: %q", got)
	}
}

func TestMultiStatementQuery(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	results, err := c.PgConn().Exec(context.Background(),
		"select src from dbt_fabio.stg_orders; select src from dbt_fabio.stg_customers; select src from dbt_fabio.orders").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, string(r.Rows[0][0]))
	}
	if strings.Join(got, ",") != "prod,dev,prod" {
		t.Fatalf("multi-statement: %v", got)
	}
	if n := len(c.takeNotices()); n != 2 {
		t.Errorf("want one notice per statement with deferrals (2), got %d", n)
	}
}

// TestIntrospectionLiterals: dbt's own catalog queries about a deferred relation are pointed at production (SPEC
// §5.5) — in a dbt session (application_name dbt, dbt-postgres's default) or a statement with dbt's query comment.
// Every other session's catalog queries describe the dev schema as it is, all of them alike.
func TestIntrospectionLiterals(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, map[string]string{"application_name": "dbt"})
	ide := e.connect(t, map[string]string{"application_name": "DBeaver 24.3.0 - Main"})
	ctx := context.Background()
	// The shapes dbt-postgres and dbt-utils send (SPEC §5.5), naming a dev relation that defers.
	shapes := []string{
		// postgres__get_columns_in_relation
		`select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
		 from "` + e.db + `".INFORMATION_SCHEMA.columns where table_name = 'stg_orders' and table_schema = 'dbt_fabio' order by ordinal_position`,
		// information_schema.tables with table_catalog
		`select table_name from information_schema.tables where table_catalog = '` + e.db + `' and table_schema = 'dbt_fabio' and table_name = 'stg_orders'`,
		// information_schema.views
		`select table_name from information_schema.views where table_schema = 'dbt_fabio' and table_name = 'stg_orders'`,
		// pg_catalog: pg_class joined with pg_namespace
		`select c.relname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dbt_fabio' and c.relname = 'stg_orders'`,
		// pg_views / pg_tables
		`select viewname from pg_views where schemaname = 'dbt_fabio' and viewname = 'stg_orders'`,
	}
	for _, sql := range shapes {
		rows, err := c.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		if n == 0 {
			t.Errorf("introspection of a deferred relation found nothing (literals not rewritten): %s", sql)
		}
		count := func(c *client, sql string) int {
			rows, err := c.Query(ctx, sql)
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				n++
			}
			return n
		}
		if n := count(ide, sql); n != 0 {
			t.Errorf("an IDE session's catalog query about a relation missing from dev found %d rows (rewritten): %s", n, sql)
		}
		commented := `/* {"app": "dbt", "dbt_version": "1.11.2", "node_id": "model.shop.orders"} */ ` + sql
		if n := count(ide, commented); n == 0 {
			t.Errorf("a statement with dbt's query comment was not rewritten outside a dbt session: %s", sql)
		}
	}
	// An existing dev relation is introspected where it is.
	var dt string
	if err := c.QueryRow(ctx, `select table_schema from information_schema.columns where table_name = 'stg_customers' and table_schema = 'dbt_fabio' limit 1`).Scan(&dt); err != nil || dt != "dbt_fabio" {
		t.Fatalf("existing dev relation introspection: %q %v", dt, err)
	}
}

func TestCatalogUnreachableFailsOpen(t *testing.T) {
	// A closed port: the dev catalog cannot answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "postgres://postgres@" + ln.Addr().String() + "/x?sslmode=disable&connect_timeout=1"
	ln.Close()

	e := newEnv(t, envOptions{catalogDSN: dead})
	c := e.connect(t, nil)
	ctx := context.Background()
	// Forwarded unchanged: the missing dev relation is not found by the server, and the session is warned once.
	if _, err := c.Exec(ctx, "select src from dbt_fabio.stg_orders"); pgCode(err) != "42P01" {
		t.Fatalf("want the statement forwarded unchanged (42P01), got %v", err)
	}
	if n := findNotice(c.takeNotices(), "WARNING", "forwarded unchanged"); n == nil {
		t.Fatalf("no fail-open warning")
	}
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "dev" {
		t.Fatalf("existing relation: %q", got)
	}
	if ns := c.takeNotices(); findNotice(ns, "WARNING", "forwarded unchanged") != nil {
		t.Errorf("warning repeated: %+v", ns)
	}
	// The write guard does not depend on the catalog.
	if _, err := c.Exec(ctx, "delete from analytics.orders"); pgCode(err) != "42501" {
		t.Fatalf("guard with catalog down: %v", err)
	}

	// The catalog view cannot say which models defer: its catalog queries describe the dev schema as it is.
	cv := e.connect(t, map[string]string{"options": "-c deferproxy.catalog_view=on"})
	wantList(t, "catalog view, catalog down", strings1(t, cv, devListing), devAsItIs)

	e2 := newEnv(t, envOptions{catalogDSN: dead, onCatalogError: "fail"})
	c2 := e2.connect(t, nil)
	if _, err := c2.Exec(ctx, "select src from dbt_fabio.stg_orders"); pgCode(err) != "58000" {
		t.Fatalf("on_catalog_error fail: want 58000, got %v", err)
	}
	cv2 := e2.connect(t, map[string]string{"options": "-c deferproxy.catalog_view=on"})
	if _, err := cv2.Exec(ctx, devListing); pgCode(err) != "58000" {
		t.Fatalf("catalog view, on_catalog_error fail: want 58000, got %v", err)
	}
}

func TestSearchPath(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	exec(t, c, "SET search_path = dbt_fabio, public")
	if got := queryString(t, c, "select src from stg_orders"); got != "prod" {
		t.Fatalf("unqualified via search_path: %q", got)
	}
	// A CTE of that name is not a relation.
	if got := queryString(t, c, "with stg_orders as (select 'cte'::text as src) select src from stg_orders"); got != "cte" {
		t.Fatalf("CTE: %q", got)
	}
	c2 := e.connect(t, map[string]string{"search_path": "dbt_fabio"})
	if got := queryString(t, c2, "select src from stg_orders"); got != "prod" {
		t.Fatalf("startup search_path: %q", got)
	}
}

func TestNoManifestYetForwardsUnchanged(t *testing.T) {
	c := pgtest.Shared(t)
	db := c.NewDatabase(t)
	c.Exec(t, db, setupSQL)
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng, err := deferral.New(ctx, deferral.Config{
		Manifest: path, DevSchema: "dbt_fabio", CatalogDSN: c.URL(pgtest.SuperUser, "", db),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("a manifest that is not there yet must not stop the engine: %v", err)
	}
	defer eng.Close()
	s := eng.OpenSession(ctx, engine.SessionInfo{ID: 7, User: "postgres", Database: db, Params: map[string]string{}})
	defer s.Close()
	sql := "select src from dbt_fabio.stg_orders"
	res := s.Statement(ctx, sql)
	if res.SQL != sql || len(res.Messages) != 1 || !strings.Contains(res.Messages[0].Text, "no production manifest") {
		t.Fatalf("before load: %+v", res)
	}
	if res := s.Statement(ctx, sql); len(res.Messages) != 0 {
		t.Fatalf("told twice: %+v", res.Messages)
	}
	if eng.Status().Production != nil {
		t.Fatal("status claims a production run")
	}
	// The manifest appears (written then renamed, as dbt does): the watcher loads it and deferral starts.
	tmp := writeManifest(t, db, time.Now())
	b, _ := os.ReadFile(tmp)
	os.WriteFile(path+".tmp", b, 0o644)
	os.Rename(path+".tmp", path)
	deadline := time.Now().Add(30 * time.Second)
	for eng.Status().Production == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if res := s.Statement(ctx, sql); res.SQL != "select src from analytics.stg_orders" {
		t.Fatalf("after load: %q", res.SQL)
	}
}

func TestFavorStateSelection(t *testing.T) {
	e := newEnv(t, envOptions{mode: "favor_state"})
	c := e.connect(t, nil)
	// Not selected and exists in dev: favor_state reads production.
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("unselected: %q", got)
	}
	// Selected through the invocation: a node seen earlier in the same dbt invocation is selected for the rest of it.
	const inv = `"invocation_id": "inv-1"`
	exec(t, c, `/* {"app": "dbt", "node_id": "model.shop.stg_customers", `+inv+`} */ select 1 from dbt_fabio.stg_customers limit 0`)
	q := `/* {"app": "dbt", "node_id": "model.shop.orders", ` + inv + `} */ select src from dbt_fabio.stg_customers`
	if got := queryString(t, c, q); got != "dev" {
		t.Fatalf("selected in the invocation: got %q, want dev", got)
	}
	// Another invocation has not seen it.
	q2 := `/* {"app": "dbt", "node_id": "model.shop.orders", "invocation_id": "inv-2"} */ select src from dbt_fabio.stg_customers`
	if got := queryString(t, c, q2); got != "prod" {
		t.Fatalf("other invocation: got %q, want prod", got)
	}
	// Without an invocation id: a node built through the proxy within selected_window is selected (dbt's
	// create __dbt_tmp + rename).
	exec(t, c, "create table dbt_fabio.stg_payments__dbt_tmp as select 1 as id, 'built'::text as src")
	exec(t, c, "alter table dbt_fabio.stg_payments__dbt_tmp rename to stg_payments")
	if got := queryString(t, c, "select src from dbt_fabio.stg_payments"); got != "built" {
		t.Fatalf("built within the window: got %q, want built", got)
	}
	// A seed reloaded in place (TRUNCATE + INSERT into its existing dev relation) is being built too.
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "prod" {
		t.Fatalf("before reload: %q", got)
	}
	exec(t, c, "truncate table dbt_fabio.stg_customers")
	exec(t, c, "insert into dbt_fabio.stg_customers values (1, 'reloaded')")
	if got := queryString(t, c, "select src from dbt_fabio.stg_customers"); got != "reloaded" {
		t.Fatalf("reloaded in place: got %q, want reloaded", got)
	}
}

func TestCopyAndNoticeSettings(t *testing.T) {
	e := newEnv(t, envOptions{notices: "off", generatedAt: time.Now().Add(-72 * time.Hour)})
	c := e.connect(t, nil)
	ctx := context.Background()
	var buf strings.Builder
	if _, err := c.PgConn().CopyTo(ctx, &buf, "copy (select src from dbt_fabio.stg_orders) to stdout"); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "prod\n" {
		t.Fatalf("COPY (query) TO: %q", buf.String())
	}
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader("9\tdev\n"), "copy analytics.orders from stdin"); pgCode(err) != "42501" {
		t.Fatalf("COPY into production: want 42501, got %v", err)
	}
	// notices: off — no deferral notice, but the stale-manifest warning (a safety message) is still given, once.
	ns := c.takeNotices()
	if findNotice(ns, "NOTICE", "deferred") != nil {
		t.Errorf("notices off, got %+v", ns)
	}
	if findNotice(ns, "WARNING", "stale") == nil {
		t.Errorf("no stale-manifest warning: %+v", ns)
	}
	queryString(t, c, "select src from dbt_fabio.stg_orders")
	if ns := c.takeNotices(); len(ns) != 0 {
		t.Errorf("repeated: %+v", ns)
	}
	if !e.eng.Status().Production.Stale {
		t.Error("status does not say stale")
	}
}

func TestUnparsableStatements(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	ctx := context.Background()
	// Reads fail open: forwarded unchanged (the server reports the syntax error), one WARNING per session.
	if _, err := c.Exec(ctx, "select src from dbt_fabio.stg_orders wherez id = 1"); pgCode(err) != "42601" {
		t.Fatalf("want the server's syntax error, got %v", err)
	}
	if findNotice(c.takeNotices(), "WARNING", "could not parse") == nil {
		t.Error("no parse warning")
	}
	// The write guard fails closed: an unparsable write naming a production schema is refused.
	for _, sql := range []string{
		"insert into analytics.orders valuez (2, 'x')",
		"update analytics.orders sett src = 'x'",
	} {
		if _, err := c.Exec(ctx, sql); pgCode(err) != "42501" {
			t.Fatalf("%s: want 42501, got %v", sql, err)
		}
	}
	if got := queryString(t, c, "select count(*)::text from analytics.orders"); got != "1" {
		t.Fatalf("production changed: %s", got)
	}
}

// TestConcurrentSessions: several sessions read through the engine while another creates and drops a dev relation;
// every answer is one of the worlds, never a corrupted statement. (Run with -race to check the hook's locking.)
func TestConcurrentSessions(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	ddl := e.connect(t, nil)
	stop := make(chan struct{})
	ddlDone := make(chan struct{})
	go func() {
		defer close(ddlDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := ddl.Exec(ctx, "create table dbt_fabio.stg_payments as select 1 as id, 'dev'::text as src"); err != nil {
				t.Errorf("create: %v", err)
				return
			}
			if _, err := ddl.Exec(ctx, "drop table dbt_fabio.stg_payments"); err != nil {
				t.Errorf("drop: %v", err)
				return
			}
		}
	}()
	var readers sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		c := e.connect(t, nil)
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; i < 40; i++ {
				var a, b string
				if err := c.QueryRow(ctx, "select o.src, c.src from dbt_fabio.stg_orders o join dbt_fabio.stg_customers c using (id)").Scan(&a, &b); err != nil || a != "prod" || b != "dev" {
					errs <- fmt.Errorf("join: %q %q %v", a, b, err)
					return
				}
				var p string
				err := c.QueryRow(ctx, "select src from dbt_fabio.stg_payments").Scan(&p)
				// Between the decision and the execution the other session may drop or create the table.
				if err != nil && pgCode(err) != "42P01" || err == nil && p != "prod" && p != "dev" {
					errs <- fmt.Errorf("stg_payments: %q %v", p, err)
					return
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	<-ddlDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := e.eng.Status(); st.Deferrals < 4*40 {
		t.Errorf("deferrals %d < %d", st.Deferrals, 4*40)
	}
}

// TestUploadedDevManifest: deferproxy exec uploads the project's dev manifest for its tag; its sessions map dev
// relations with it (here a dev schema that derivation from dev_schema would never give), others do not.
func TestUploadedDevManifest(t *testing.T) {
	e := newEnv(t, envOptions{})
	prod, err := os.ReadFile(e.eng.Status().Production.Source)
	if err != nil {
		t.Fatal(err)
	}
	dev := strings.ReplaceAll(strings.ReplaceAll(string(prod), `"analytics"`, `"dev_alt"`), `\"analytics\"`, `\"dev_alt\"`)
	if _, err := e.eng.SetDevManifest("t1", strings.NewReader(dev)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.SetDevManifest("t2", strings.NewReader(strings.Replace(dev, `"project_name": "shop"`, `"project_name": "other"`, 1))); err == nil ||
		!strings.Contains(err.Error(), `project "other"`) {
		t.Fatalf("a dev manifest of another project: %v", err)
	}
	tagged := e.connect(t, map[string]string{"options": "-c deferproxy.tag=t1"})
	if got := queryString(t, tagged, "select src from dev_alt.stg_orders"); got != "prod" {
		t.Fatalf("tagged session: dev_alt.stg_orders read %q, want production's", got)
	}
	other := e.connect(t, map[string]string{"options": "-c deferproxy.tag=t9"})
	if _, err := other.Exec(context.Background(), "select src from dev_alt.stg_orders"); err == nil {
		t.Fatal("a session of another tag used t1's dev manifest")
	}
	// The proxy consumed the tag: the server never saw it.
	var opt string
	if err := tagged.QueryRow(context.Background(), "select current_setting('deferproxy.tag', true)").Scan(&opt); err == nil && opt != "" {
		t.Fatalf("the server saw deferproxy.tag = %q", opt)
	}
}
