package deferral_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// preparedClient is a pgx connection through the proxy that prepares each statement once (pgx's statement cache:
// Parse once, then Bind and Execute), as BI drivers do.
func (e *env) preparedClient(t *testing.T) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://" + pgtest.SuperUser + "@" + e.addr + "/" + e.db + "?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestPreparedStatementFollowsDevCatalog: a statement prepared once reads what a fresh statement reads, in both
// directions: production while the dev relation is missing, dev once it is built (DDL through the proxy, or made
// directly on the server once the dev catalog's TTL has passed), production again — not 42P01 — once it is dropped;
// and the session's mode.
func TestPreparedStatementFollowsDevCatalog(t *testing.T) {
	e := newEnv(t, envOptions{catalogTTL: 300 * time.Millisecond})
	conn := e.preparedClient(t)
	other := e.connect(t, nil)
	ctx := context.Background()
	read := func(q string) (string, error) {
		var s string
		err := conn.QueryRow(ctx, q, 1).Scan(&s)
		return s, err
	}
	want := func(step, q, v string) {
		t.Helper()
		if got, err := read(q); err != nil || got != v {
			t.Fatalf("%s: %q, %v; want %q", step, got, err, v)
		}
	}
	const q = "select src from dbt_fabio.stg_orders where id = $1"
	for i := 0; i < 6; i++ {
		want("before the dev build", q, "prod")
	}
	exec(t, other, "create table dbt_fabio.stg_orders as select 1 as id, 'dev'::text as src")
	want("after the dev build through the proxy", q, "dev")
	exec(t, other, "drop table dbt_fabio.stg_orders")
	want("after the drop through the proxy", q, "prod")

	// Made on the server, not through the proxy: seen when the listing expires, as by a fresh statement.
	e.c.Exec(t, e.db, "create table dbt_fabio.stg_orders as select 1 as id, 'direct'::text as src")
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := read(q)
		if err != nil {
			t.Fatalf("while the listing expires: %v", err)
		}
		if got == "direct" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the prepared statement still reads %q long after the dev catalog's TTL", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.c.Exec(t, e.db, "drop table dbt_fabio.stg_orders")
	deadline = time.Now().Add(30 * time.Second)
	for {
		got, err := read(q)
		if err == nil && got == "prod" {
			break
		}
		if err != nil && pgCode(err) != "42P01" || time.Now().After(deadline) {
			t.Fatalf("after the direct drop: %q, %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The session's mode: favor_state reads production for an unselected model built in dev.
	const qc = "select src from dbt_fabio.stg_customers where id = $1"
	want("dev relation, defer", qc, "dev")
	if _, err := conn.Exec(ctx, "set deferproxy.mode = favor_state"); err != nil {
		t.Fatal(err)
	}
	want("favor_state", qc, "prod")
	if _, err := conn.Exec(ctx, "set deferproxy.mode = defer"); err != nil {
		t.Fatal(err)
	}
	want("defer again", qc, "dev")
}

// TestCurrentCostsNothing: the check a front end makes before each use of a prepared statement allocates nothing,
// says yes while nothing changed, and no once the session's search_path changed or a listing the verdict came from
// is gone.
func TestCurrentCostsNothing(t *testing.T) {
	e := newEnv(t, envOptions{catalogTTL: time.Hour})
	s := e.eng.OpenSession(context.Background(), engine.SessionInfo{ID: 99, User: "postgres", Database: e.db, Params: map[string]string{}})
	defer s.Close()
	ck, ok := s.(engine.Checker)
	if !ok {
		t.Fatal("the engine's session is not an engine.Checker")
	}
	for _, sql := range []string{"select src from dbt_fabio.stg_orders", "select 1 from pgbench_accounts"} {
		v := s.Statement(context.Background(), sql)
		if !ck.Current(v.DependsOn) {
			t.Fatalf("%s: a fresh verdict is not current: %+v", sql, v.DependsOn)
		}
		if n := testing.AllocsPerRun(100, func() { ck.Current(v.DependsOn) }); n != 0 {
			t.Errorf("%s: Current allocates %.0f times", sql, n)
		}
	}
	// The session's search_path: every verdict drew on it.
	plain := s.Statement(context.Background(), "select 1 from pgbench_accounts")
	s.Statement(context.Background(), "set search_path = dbt_fabio, public")
	if ck.Current(plain.DependsOn) {
		t.Fatal("still current after the session's search_path changed")
	}
	if again := s.Statement(context.Background(), "select 1 from pgbench_accounts"); !ck.Current(again.DependsOn) {
		t.Fatal("a verdict drawn under the new search_path is not current")
	}
	v := s.Statement(context.Background(), "select src from dbt_fabio.stg_orders")
	if len(v.DependsOn.Listings) == 0 {
		t.Fatalf("a deferred verdict names no listing: %+v", v.DependsOn)
	}
	e.c.Exec(t, e.db, "create table dbt_fabio.later (id int)") // no notification through the proxy: the listing stays
	if !ck.Current(v.DependsOn) {
		t.Fatal("not current although the listing it came from is")
	}
	other := e.connect(t, nil)
	exec(t, other, "create table dbt_fabio.stg_orders as select 1 as id, 'dev'::text as src")
	if ck.Current(v.DependsOn) {
		t.Fatal("still current after DDL through the proxy invalidated the listing")
	}
}

// BenchmarkCurrent: the check before each use of a prepared statement whose verdict did not change.
func BenchmarkCurrent(b *testing.B) {
	s := benchSession(b)
	ck := s.(engine.Checker)
	v := s.Statement(context.Background(), "SELECT src FROM dbt_fabio.stg_orders WHERE id = $1")
	if !ck.Current(v.DependsOn) {
		b.Fatal("not current")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ck.Current(v.DependsOn)
	}
}

// TestPreparedStatementFollowsManifestReload: a new production run that moved the model to another schema is read by
// a statement prepared before the reload, as by a fresh one.
func TestPreparedStatementFollowsManifestReload(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.c.Exec(t, e.db, "create schema analytics_v2; create view analytics_v2.stg_orders as select 1 as id, 'prod v2'::text as src")
	conn := e.preparedClient(t)
	ctx := context.Background()
	const q = "select src from dbt_fabio.stg_orders where id = $1"
	read := func() string {
		t.Helper()
		var s string
		if err := conn.QueryRow(ctx, q, 1).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := 0; i < 3; i++ {
		if got := read(); got != "prod" {
			t.Fatalf("before the reload: %q", got)
		}
	}
	path := e.eng.Status().Production.Source
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := strings.ReplaceAll(string(b), `"analytics"`, `"analytics_v2"`)
	next = strings.ReplaceAll(next, `\"analytics\"`, `\"analytics_v2\"`) // relation_name
	next = strings.ReplaceAll(next, "4f1c2a9e-0000-4000-8000-prod00000001", "5b5b5b5b-0000-4000-8000-prod00000002")
	if err := os.WriteFile(path+".tmp", []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.eng.Status().Production.InvocationID != "5b5b5b5b-0000-4000-8000-prod00000002" {
		if time.Now().After(deadline) {
			t.Fatalf("the new manifest was never loaded: %+v", e.eng.Status().Production)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := queryString(t, e.connect(t, nil), q, 1); got != "prod v2" {
		t.Fatalf("after the reload a fresh statement read %q", got)
	}
	if got := read(); got != "prod v2" {
		t.Fatalf("after the reload the prepared statement read %q, want the new run's relation", got)
	}
}
