package sfe2e

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/fakesnow"
	"github.com/deferproxy/deferproxy/snowflake"
)

// BenchmarkFakesnowQuery: gosnowflake's `select 1` round trip (login once, then one query request per op) directly
// against fakesnow and through the Snowflake listener (pass-through: no manifest, so the listener's HTTP hop and body
// handling alone). fakesnow itself (Python, DuckDB, Arrow) dominates both.
//
//	go test -run XXX -bench BenchmarkFakesnowQuery -benchtime 200x -count 5 ./internal/sfe2e
func BenchmarkFakesnowQuery(b *testing.B) {
	b.Setenv("SF_DISABLE_MINICORE", "true")
	fs := fakesnow.Start(b)
	srv, err := snowflake.New(snowflake.Config{Upstream: fs.URL})
	if err != nil {
		b.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	for _, c := range []struct {
		name string
		port int
	}{{"direct", fs.Port}, {"listener", ln.Addr().(*net.TCPAddr).Port}} {
		b.Run(c.name, func(b *testing.B) {
			db := openDB(b, c.port, "public", nil)
			if _, err := rows(b, db, "select 1"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				r, err := rows(b, db, "select "+strconv.Itoa(i%100))
				if err != nil || len(r) != 1 {
					b.Fatal(r, err)
				}
			}
		})
	}
}
