package deferral_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/fakesnow"
)

// sfComment is dbt-snowflake's query comment, appended after the statement and followed by ';'.
func sfComment(node string) string {
	return "\n/* {\"app\": \"dbt\", \"dbt_version\": \"1.11.16\", \"profile_name\": \"snowcheck\", \"target_name\": \"dev\", \"node_id\": \"" +
		node + "\"} */;"
}

// sfEnv is a fakesnow account holding production (db.analytics, built as dbt-snowflake's prod target would) and a
// dev schema db.dbt_dev where only raw_customers exists, and a defer engine over the production manifest
// dbt-snowflake 1.11.6 wrote for that project (testdata/sf_prod_manifest.json.tmpl, from `dbt parse`), with the
// fakesnow account as its Snowflake dev catalog.
type sfEnv struct {
	db  *sql.DB
	eng *deferral.Engine
}

func newSFEnv(t *testing.T) *sfEnv {
	t.Helper()
	fs := fakesnow.Start(t)
	dsn, err := sf.DSN(&sf.Config{Account: "x", User: "u", Password: "p", Database: "db", Host: fs.Host, Port: fs.Port,
		Protocol: "http", MaxRetryCount: 1, LoginTimeout: time.Minute, RequestTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("snowflake", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		"create schema if not exists db.analytics",
		"create table db.analytics.raw_customers (id int, name varchar, src varchar)",
		"insert into db.analytics.raw_customers values (1, 'alice', 'prod')",
		"create table db.analytics.raw_orders (order_id int, customer_id int, amount float, src varchar)",
		"insert into db.analytics.raw_orders values (1, 1, 10.5, 'prod')",
		"create or replace view db.analytics.stg_orders as (select order_id, customer_id, amount, src from db.analytics.raw_orders)",
		"create schema if not exists db.dbt_dev",
		"create table db.dbt_dev.raw_customers (id int, name varchar, src varchar)",
		"insert into db.dbt_dev.raw_customers values (1, 'alice', 'dev')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v\n%s", q, err, fs.Log())
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", "sf_prod_manifest.json.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	gen := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
	if err := os.WriteFile(manifest, []byte(strings.ReplaceAll(string(b), "{{GENERATED_AT}}", gen)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	eng, err := deferral.New(ctx, deferral.Config{
		Manifest:            manifest,
		DevSchema:           "dbt_dev",
		SnowflakeCatalogDSN: dsn,
		CatalogTimeout:      time.Minute, // the machine is shared; fakesnow is slow to answer a first query
		Logger:              slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return &sfEnv{db: db, eng: eng}
}

// session opens a Snowflake session as the front end does after a login to database db, schema dbt_dev.
func (e *sfEnv) session(t *testing.T) engine.Session {
	t.Helper()
	s := e.eng.OpenSession(context.Background(), engine.SessionInfo{ID: 1, User: "u", Database: "db",
		Params: map[string]string{"schema": "dbt_dev"}, Dialect: engine.Snowflake})
	t.Cleanup(s.Close)
	return s
}

// TestSnowflakeSessionDefers: a Snowflake session defers what dbt-snowflake sends the way `--defer --state` would —
// the rewritten sqlText is exactly native defer's (lower-case unquoted names, query comment and ';' kept) and reads
// production's rows on the warehouse — and the dev catalog (SHOW TERSE OBJECTS on fakesnow) decides: an existing
// dev relation is kept, one built through the session is no longer deferred after its statement.
func TestSnowflakeSessionDefers(t *testing.T) {
	e := newSFEnv(t)
	s := e.session(t)
	ctx := context.Background()

	ctas := "create or replace transient table db.dbt_dev.customer_totals\n    as (select c.id as customer_id, c.name, o.src, c.src as csrc\nfrom db.dbt_dev.raw_customers c\nleft join db.dbt_dev.stg_orders o on o.customer_id = c.id\n    )\n;" +
		sfComment("model.snowcheck.customer_totals")
	v := s.Statement(ctx, ctas)
	want := strings.Replace(ctas, "db.dbt_dev.stg_orders", "db.analytics.stg_orders", 1)
	if v.Refusal != nil || v.SQL != want {
		t.Fatalf("CTAS:\n got %q (refusal %v)\nwant %q", v.SQL, v.Refusal, want)
	}
	if len(v.Deferrals) != 1 || v.Deferrals[0].From != "DBT_DEV.STG_ORDERS" || v.Deferrals[0].To != "ANALYTICS.STG_ORDERS" {
		t.Errorf("deferrals %+v", v.Deferrals)
	}
	// The rewritten statement runs on the warehouse (without dbt's trailing comment and ';', which gosnowflake
	// would count as a second statement) and reads production's stg_orders next to dev's raw_customers.
	body := v.SQL[:strings.Index(v.SQL, "\n;")]
	if _, err := e.db.Exec(body); err != nil {
		t.Fatalf("rewritten CTAS: %v", err)
	}
	s.Transaction(engine.TxIdle)
	var osrc, csrc string
	if err := e.db.QueryRow("select src, csrc from db.dbt_dev.customer_totals").Scan(&osrc, &csrc); err != nil {
		t.Fatal(err)
	}
	if osrc != "prod" || csrc != "dev" {
		t.Errorf("customer_totals read orders from %q and customers from %q; want prod and dev", osrc, csrc)
	}

	// dbt's own listings are never rewritten; introspection of a deferred relation is (SPEC §5.5).
	for _, q := range []string{"show terse schemas in database db limit 10000", "show objects in db.dbt_dev limit 10000",
		"show terse objects in schema db.dbt_dev"} {
		if v := s.Statement(ctx, q+sfComment("model.snowcheck.x")); v.SQL != q+sfComment("model.snowcheck.x") || len(v.Deferrals) != 0 {
			t.Errorf("%s became %q", q, v.SQL)
		}
	}
	if v := s.Statement(ctx, "describe table db.dbt_dev.stg_orders"); v.SQL != "describe table db.analytics.stg_orders" {
		t.Errorf("describe of a deferred relation: %q", v.SQL)
	}
	if v := s.Statement(ctx, "show columns in table DB.DBT_DEV.RAW_ORDERS"); v.SQL != "show columns in table DB.ANALYTICS.RAW_ORDERS" {
		t.Errorf("show columns of a deferred relation: %q", v.SQL)
	}

	// The session builds stg_orders in dev: from the next statement on it is read there.
	view := "create or replace view db.dbt_dev.stg_orders as (select order_id, customer_id, amount, 'dev' as src from db.dbt_dev.raw_orders)"
	if v := s.Statement(ctx, view); v.SQL != strings.Replace(view, "db.dbt_dev.raw_orders", "db.analytics.raw_orders", 1) {
		t.Fatalf("view: %q", v.SQL)
	} else if _, err := e.db.Exec(v.SQL); err != nil {
		t.Fatal(err)
	}
	s.Transaction(engine.TxIdle)
	sel := "select * from db.dbt_dev.stg_orders"
	if v := s.Statement(ctx, sel); v.SQL != sel || len(v.Deferrals) != 0 {
		t.Errorf("stg_orders exists in dev now, yet %q was rewritten to %q", sel, v.SQL)
	}
	if st := e.eng.Status(); st.Deferrals < 4 {
		t.Errorf("status counts %d deferrals, want at least 4", st.Deferrals)
	}
}

// TestSnowflakeSessionGuard: the production write guard in Snowflake's terms — a 3-part name, IDENTIFIER('…') (never
// rewritten), an unqualified name in the current schema as USE and the server's report set it — answers 42501; writes
// into dev pass unchanged.
func TestSnowflakeSessionGuard(t *testing.T) {
	e := newSFEnv(t)
	s := e.session(t)
	ctx := context.Background()
	refused := func(sql string) bool {
		t.Helper()
		v := s.Statement(ctx, sql)
		if v.Refusal != nil && v.Refusal.Code != "42501" {
			t.Errorf("%s: refusal code %s, want 42501", sql, v.Refusal.Code)
		}
		if v.Refusal == nil && v.SQL != sql {
			t.Errorf("%s: a write was rewritten to %q", sql, v.SQL)
		}
		return v.Refusal != nil
	}
	for _, tc := range []struct {
		sql     string
		refused bool
	}{
		{"create or replace transient table db.analytics.customer_totals as (select 1 as id)" + sfComment("model.snowcheck.customer_totals"), true},
		{"insert overwrite into DB.ANALYTICS.RAW_ORDERS select * from db.dbt_dev.raw_customers", true},
		{"create or replace table identifier('db.analytics.stg_orders') as (select 1 as id)", true},
		{"insert into identifier('\"DB\".\"ANALYTICS\".\"RAW_ORDERS\"') select 1, 1, 1.0, 'x'", true},
		{"alter table db.dbt_dev.customer_totals swap with db.analytics.customer_totals", true},
		{"merge into db.analytics.raw_orders t using db.dbt_dev.raw_customers s on t.order_id = s.id when matched then delete", true},
		{"create or replace table identifier('db.dbt_dev.stg_orders') as (select 1 as id)", false},
		{"create table scratch (id int)", false}, // the current schema is dbt_dev
		{"alter table db.dbt_dev.customer_totals__dbt_tmp rename to db.dbt_dev.customer_totals", false},
		// Reading production is allowed: Snowflake has no SELECT INTO (internal/sfe2e's transparent test sends these).
		{"select order_id, customer_id, amount from db.analytics.raw_orders order by order_id", false},
		{"select table_name from db.information_schema.tables where table_schema = 'ANALYTICS' order by 1", false},
	} {
		if got := refused(tc.sql); got != tc.refused {
			t.Errorf("%s: refused %v, want %v", tc.sql, got, tc.refused)
		}
	}
	if v := s.Statement(ctx, "use schema db.analytics"); v.Refusal != nil {
		t.Fatalf("use: %+v", v.Refusal)
	}
	if !refused("create table scratch (id int)") {
		t.Error("after USE SCHEMA db.analytics an unqualified create lands in production, yet it was allowed")
	}
	// The server reports the current schema with each result (finalSchemaName); the front end passes it on.
	s.(engine.SchemaTracker).CurrentSchema("DB", "DBT_DEV")
	if refused("create table scratch (id int)") {
		t.Error("back in DBT_DEV (as the server reported), an unqualified create was refused")
	}
	s.Statement(ctx, "use database db") // PUBLIC becomes current: no production schema
	if refused("create table t (id int)") {
		t.Error("after USE DATABASE db (schema PUBLIC), an unqualified create was refused")
	}
}
