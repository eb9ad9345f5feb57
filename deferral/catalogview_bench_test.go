package deferral_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// The catalog view's cost where it is paid: an IDE's catalog query, with the view off and on, through the proxy,
// and the same query sent to PostgreSQL directly, over a production of viewBenchModels tables of eight columns
// (none built in dev). Wall-clock: compare the three within one run (docs/BENCHMARKS.md), never across machines.

const viewBenchModels = 1000

// viewBenchQueries are an IDE's tree (pgjdbc getTables' shape) and one table's columns (getColumns' shape).
var viewBenchQueries = map[string]string{
	"tables": `SELECT n.nspname, c.relname, c.relkind, d.description FROM pg_catalog.pg_namespace n
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass
WHERE n.nspname = 'dbt_fabio' AND c.relkind IN ('r', 'v', 'm') ORDER BY 2`,
	"columns": `SELECT a.attname, t.typname, a.attnotnull, dsc.description FROM pg_catalog.pg_namespace n
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_description dsc ON dsc.objoid = c.oid AND dsc.objsubid = a.attnum
WHERE n.nspname = 'dbt_fabio' AND c.relname = 'm0500' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
}

// bigManifest writes a production manifest of n table models m0001… in analytics, cloned from the fixture's
// stg_customers node.
func bigManifest(tb testing.TB, db string, n int) string {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(readFixtureManifest(tb, db)), &m); err != nil {
		tb.Fatal(err)
	}
	nodes := m["nodes"].(map[string]any)
	tmpl, err := json.Marshal(nodes["model.shop.stg_customers"])
	if err != nil {
		tb.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("m%04d", i)
		var node map[string]any
		if err := json.Unmarshal([]byte(strings.ReplaceAll(string(tmpl), "stg_customers", name)), &node); err != nil {
			tb.Fatal(err)
		}
		nodes["model.shop."+name] = node
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "manifest.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// readFixtureManifest is the fixture manifest's text for db.
func readFixtureManifest(tb testing.TB, db string) string {
	b, err := os.ReadFile(writeManifest(tb, db, time.Now()))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func BenchmarkCatalogView(b *testing.B) {
	e := newEnv(b, envOptions{catalogTTL: time.Hour, manifest: func(db string) string { return bigManifest(b, db, viewBenchModels) }})
	e.c.Exec(b, e.db, fmt.Sprintf(`DO $$ BEGIN FOR i IN 1..%d LOOP
EXECUTE format('CREATE TABLE analytics.m%%s (id int PRIMARY KEY, a text, b text, c int, d numeric, e date, f boolean, src text)', lpad(i::text, 4, '0'));
END LOOP; END $$`, viewBenchModels))
	ctx := context.Background()
	direct, err := pgx.Connect(ctx, e.c.URL(pgtest.SuperUser, "", e.db))
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close(ctx)
	off := e.connect(b, map[string]string{"application_name": "bench"})
	on := e.connect(b, map[string]string{"application_name": "bench", "options": "-c deferproxy.catalog_view=on"})
	for _, q := range []string{"tables", "columns"} {
		sql := viewBenchQueries[q]
		for _, c := range []struct {
			name string
			conn *pgx.Conn
			rows int
		}{{"direct", direct, map[string]int{"tables": 1, "columns": 0}[q]}, {"off", off.Conn, map[string]int{"tables": 1, "columns": 0}[q]},
			{"on", on.Conn, map[string]int{"tables": viewBenchModels + 6, "columns": 8}[q]}} {
			b.Run(q+"/"+c.name, func(b *testing.B) {
				count := func() int {
					rows, err := c.conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						n++
					}
					if rows.Err() != nil {
						b.Fatal(rows.Err())
					}
					return n
				}
				if got := count(); got != c.rows {
					b.Fatalf("%d rows, want %d", got, c.rows)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					count()
				}
			})
		}
	}
}
