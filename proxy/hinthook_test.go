package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
)

// hintHook is testHook whose sessions also explain errors: every 42P01 and 42883 gets a hint naming its code.
type hintHook struct{ testHook }

func (h *hintHook) OpenSession(ctx context.Context, info proxy.SessionInfo) proxy.SessionHook {
	return hintSession{h.testHook.OpenSession(ctx, info)}
}

type hintSession struct{ proxy.SessionHook }

func (hintSession) ErrorHint(_ context.Context, e engine.ServerError) string {
	if e.Code != "42P01" && e.Code != "42883" {
		return ""
	}
	return fmt.Sprintf("proxy hint for %s at %d", e.Code, e.Position)
}

// TestErrorHintThroughProxy: with real PostgreSQL, in the simple and extended protocols and in a pipeline, a hinted
// error reaches the client with every field of the server's (a server hint kept first), and the session goes on.
func TestErrorHintThroughProxy(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{Hook: &hintHook{}})
	ctx := ctxT(t)
	through := connect(t, tp.url("postgres", "", "", ""))
	direct := connect(t, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", c.Addr()))
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec, pgx.QueryExecModeCacheStatement} {
		for _, tc := range []struct{ sql, hint string }{
			{"select  * from no_such_table", "proxy hint for 42P01 at 16"},
			{"select no_such_function(1)", "No function matches the given name and argument types. You might need to add explicit type casts.\nproxy hint for 42883 at 8"},
			{"select no_such_column", ""},
		} {
			_, err := through.Exec(ctx, tc.sql, mode)
			_, derr := direct.Exec(ctx, tc.sql, mode)
			var got, want *pgconn.PgError
			if !errors.As(err, &got) || !errors.As(derr, &want) {
				t.Fatalf("%v %s: %v / %v", mode, tc.sql, err, derr)
			}
			if tc.hint == "" {
				tc.hint = want.Hint
			}
			if got.Hint != tc.hint {
				t.Errorf("%v %s: hint %q, want %q", mode, tc.sql, got.Hint, tc.hint)
			}
			g, w := *got, *want
			g.Hint, w.Hint = "", ""
			if g != w {
				t.Errorf("%v %s: fields changed:\n got %+v\nwant %+v", mode, tc.sql, g, w)
			}
			var n int
			if err := through.QueryRow(ctx, "select 7", mode).Scan(&n); err != nil || n != 7 {
				t.Fatalf("after the error: %v", err)
			}
		}
	}
	// A pipeline (pgx prepares every statement of it first): the hinted error stops it, the session goes on.
	b := &pgx.Batch{}
	b.Queue("select 10")
	b.Queue("select * from no_such_table")
	b.Queue("select 11")
	br := through.SendBatch(ctx, b)
	var n int
	var pe *pgconn.PgError
	if err := br.QueryRow().Scan(&n); !errors.As(err, &pe) || pe.Hint != "proxy hint for 42P01 at 15" {
		t.Fatalf("batch error: %v", err)
	}
	br.Close()
	if err := through.QueryRow(ctx, "select 12").Scan(&n); err != nil || n != 12 {
		t.Fatalf("after the batch: %v", err)
	}
	// The refusal path is untouched: the Hook's own error, not a hinted one.
	_, err := through.Exec(ctx, "insert into forbidden_table values (1)")
	checkRefusal(t, err)
}
