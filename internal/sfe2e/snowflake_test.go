package sfe2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/deferproxy/deferproxy/internal/fakesnow"
)

// TestSnowflake builds production with dbt-snowflake directly on fakesnow, then shows that deferproxy's Snowflake
// listener, on the defer engine with that production manifest, is transparent: the same gosnowflake queries and
// statements directly and through it agree (rows, errors, rows affected), and nothing secret is logged or shown.
func TestSnowflake(t *testing.T) {
	t.Setenv("SF_DISABLE_MINICORE", "true")
	fs := fakesnow.Start(t)
	t.Logf("fakesnow on %s", fs.URL)
	direct := strconv.Itoa(fs.Port)
	d := newDbt(t, "SF_DIRECT_PORT="+direct)

	// Production, built directly.
	for _, args := range [][]string{{"seed"}, {"run"}, {"test"}} {
		out, ok := d.run(t, nil, append(args, "--target", "prod")...)
		t.Logf("dbt %s --target prod: ok=%v", args[0], ok)
		if !ok {
			t.Fatalf("dbt %s --target prod failed:\n%s\n%s", args[0], out, fs.Log())
		}
	}
	state := filepath.Join(t.TempDir(), "prod-state")
	os.MkdirAll(state, 0o755)
	b, err := os.ReadFile(filepath.Join(d.dir, "target", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(state, "manifest.json")
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder(t, fs.URL)
	l := startListener(t, rec.srv.URL, manifest, "dbt_dev", "defer")
	directDB := openDB(t, fs.Port, "analytics", nil)
	proxyDB := openDB(t, l.port, "dbt_dev", map[string]string{"DEFERPROXY_MODE": "favor_state"})

	t.Run("transparent", func(t *testing.T) {
		for _, q := range []string{
			"select 1 as one, 'two' as two, 3.5 as three",
			"select order_id, customer_id, amount from db.analytics.raw_orders order by order_id",
			"select c.name, o.amount from db.analytics.raw_customers c join db.analytics.stg_orders o on o.customer_id = c.id order by 1, 2",
			"show terse objects in schema db.analytics",
			"select table_name from db.information_schema.tables where table_schema = 'ANALYTICS' order by 1",
			"select to_date('2024-02-29') as d, true as b, null as n",
		} {
			got, gerr := rows(t, proxyDB, q)
			want, werr := rows(t, directDB, q)
			if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n through %v %v\n directly %v %v", q, got, gerr, want, werr)
			}
		}
		ctx := context.Background()
		counts := map[string][]int64{}
		for name, db := range map[string]*sql.DB{"through": proxyDB, "directly": directDB} {
			schema := "db.scratch_" + strings.ReplaceAll(name, "through", "proxy")
			for _, stmt := range []string{
				"create schema if not exists " + schema,
				"create or replace table " + schema + ".t (x int, s varchar)",
				"insert into " + schema + ".t values (1, 'a'), (2, 'b'), (3, 'c')",
				"update " + schema + ".t set s = 'z' where x > 1",
				"delete from " + schema + ".t where x = 3",
			} {
				res, err := db.ExecContext(ctx, stmt)
				if err != nil {
					t.Fatalf("%s: %s: %v", name, stmt, err)
				}
				n, _ := res.RowsAffected()
				counts[name] = append(counts[name], n)
			}
			got := mustRows(t, db, "select x, s from "+schema+".t order by x")
			if want := [][]string{{"1", "a"}, {"2", "z"}}; !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %v", name, got)
			}
		}
		if !reflect.DeepEqual(counts["through"], counts["directly"]) || counts["through"][2] != 3 {
			t.Errorf("rows affected through %v, directly %v", counts["through"], counts["directly"])
		}
	})

	t.Run("no secret shown", func(t *testing.T) {
		st, _ := json.Marshal(l.srv.Stats())
		shown := l.logs.String() + string(st)
		for _, secret := range []string{"snow-TestSnowflake", "PASSWORD"} {
			if strings.Contains(shown, secret) {
				t.Errorf("%q shown in the listener's log or status", secret)
			}
		}
		if !strings.Contains(l.logs.String(), "snowflake session") {
			t.Errorf("the log has no session line; the check shows nothing")
		}
	})
}
