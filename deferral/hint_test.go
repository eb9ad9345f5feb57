package deferral_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// TestUndefinedTableHint: a 42P01 for a dev relation the mapping does not know reaches the client with the server's
// every field unchanged (compared with the same statement run directly) and deferproxy's hint, in the simple and
// the extended protocol; 42P01s outside the dev schemas and other errors are left as the server sent them.
func TestUndefinedTableHint(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	direct, err := pgx.Connect(ctx, e.c.URL(pgtest.SuperUser, "", e.db))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(ctx)
	cl := e.connect(t, nil)
	for _, tc := range []struct {
		name, sql string
		want      []string // substrings of the hint; nil: no hint
	}{
		{"renamed alias", "select id from dbt_fabio.orders_stg", []string{
			`deferproxy: dbt_fabio.orders_stg is no dbt node's dev relation in the mapping in use (derived from the production manifest; no dev manifest)`,
			"\nNearby: model stg_orders (production analytics.stg_orders, dev dbt_fabio.stg_orders): if your branch renamed its alias",
			"\nFix: give deferproxy your dev manifest (--dev-manifest target/manifest.json, or --project-dir",
			"--schema-map dbt_fabio=<production schema>"}},
		{"typo", "select id from dbt_fabio.custmers", []string{"Nearby: model customers (production analytics.customers, dev dbt_fabio.customers)"}},
		{"custom schema", "select * from dbt_fabio_staging.stg_payments", []string{
			"dbt_fabio_staging.stg_payments is no dbt node's dev relation",
			"Nearby: model stg_payments (production analytics.stg_payments, dev dbt_fabio.stg_payments) has the identifier stg_payments in another schema."}},
		{"unqualified through search_path", "set search_path = dbt_fabio; select * from orders_v2", []string{
			"dbt_fabio.orders_v2 is no dbt node's dev relation"}},
		{"nothing nearby", "select * from dbt_fabio.zzzzzzzzzzzz", []string{"(derived from the production manifest; no dev manifest), so it was not deferred to production.\nFix: "}},
		{"production schema: the server's error alone", "select * from analytics.nope", nil},
		{"other schema: the server's error alone", "select * from elsewhere.orders_stg", nil},
		{"another error: untouched", "select nope from dbt_fabio.stg_customers", nil},
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
			t.Run(tc.name+"/"+mode.String(), func(t *testing.T) {
				sqls := []string{tc.sql}
				if mode != pgx.QueryExecModeSimpleProtocol && strings.Contains(tc.sql, ";") {
					sqls = strings.Split(tc.sql, "; ")
				}
				var got, want *pgconn.PgError
				for _, sql := range sqls {
					_, err := cl.Exec(ctx, sql, mode)
					_, derr := direct.Exec(ctx, sql, mode)
					if err == nil && derr == nil {
						continue
					}
					if !errors.As(err, &got) || !errors.As(derr, &want) {
						t.Fatalf("want an error both ways, got %v through the proxy and %v directly", err, derr)
					}
				}
				if got == nil {
					t.Fatal("no error")
				}
				hint := got.Hint
				g, w := *got, *want
				g.Hint, w.Hint = "", ""
				if g != w {
					t.Fatalf("the server's fields changed:\n got %+v\nwant %+v", g, w)
				}
				if tc.want == nil {
					if hint != want.Hint {
						t.Fatalf("hint %q, want the server's %q", hint, want.Hint)
					}
					return
				}
				for _, s := range tc.want {
					if !strings.Contains(hint, s) {
						t.Errorf("hint lacks %q:\n%s", s, hint)
					}
				}
			})
		}
		_, _ = cl.Exec(ctx, "reset search_path")
		_, _ = direct.Exec(ctx, "reset search_path")
	}
	// The session goes on after a hinted error, in a transaction too (the error fails it, as the server said).
	tx, err := cl.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "select * from dbt_fabio.orders_stg"); pgCode(err) != "42P01" {
		t.Fatalf("in a transaction: %v", err)
	}
	if _, err := tx.Exec(ctx, "select 1"); pgCode(err) != "25P02" {
		t.Fatalf("after the error: %v", err)
	}
	_ = tx.Rollback(ctx)
	if s := queryString(t, cl, "select src from dbt_fabio.stg_customers"); s != "dev" {
		t.Fatalf("after: %q", s)
	}
}

// TestServerErrorHintTable: the hint text for each kind of nearby node, straight from the engine's session.
func TestServerErrorHintTable(t *testing.T) {
	e := newEnv(t, envOptions{})
	s := e.eng.OpenSession(context.Background(), engine.SessionInfo{ID: 1, User: "fabio", Database: e.db})
	defer s.Close()
	x, ok := s.(engine.ErrorExplainer)
	if !ok {
		t.Fatal("the engine's session explains no errors")
	}
	for _, tc := range []struct {
		code, msg, want string
	}{
		{"42P01", `relation "dbt_fabio.stg_order" does not exist`, "deferproxy: dbt_fabio.stg_order is no dbt node's dev relation " +
			"in the mapping in use (derived from the production manifest; no dev manifest), so it was not deferred to production.\n" +
			"Nearby: model stg_orders (production analytics.stg_orders, dev dbt_fabio.stg_orders): if your branch renamed its alias " +
			"(or the model), only the dev manifest knows.\n" +
			"Fix: give deferproxy your dev manifest (--dev-manifest target/manifest.json, or --project-dir with your dbt project), " +
			"or map the schema (--schema-map dbt_fabio=<production schema>); docs/SPEC.md §3."},
		{"42P01", `relation "dbt_fabio.stg_customers" does not exist`, ""}, // mapped: not ours to explain
		{"42P01", `relation "analytics.stg_order" does not exist`, ""},     // production
		{"42P01", `la relation « dbt_fabio.x » n'existe pas`, ""},          // another language
		{"42703", `column "x" does not exist`, ""},
	} {
		if got := x.ServerError(context.Background(), engine.ServerError{Code: tc.code, Message: tc.msg}); got != tc.want {
			t.Errorf("%s %s:\n got %q\nwant %q", tc.code, tc.msg, got, tc.want)
		}
	}
}
