package proxy_test

import (
	"testing"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5"
)

func TestSimpleAndExtended(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	conn := connect(t, tp.url("postgres", "", "", ""))
	var n int
	if err := conn.QueryRow(ctx, "select 41 + $1::int", 1).Scan(&n); err != nil || n != 42 {
		t.Fatalf("extended: %v %d", err, n)
	}
	var s string
	if err := conn.QueryRow(ctx, "select 'hello'", pgx.QueryExecModeSimpleProtocol).Scan(&s); err != nil || s != "hello" {
		t.Fatalf("simple: %v %q", err, s)
	}
}
