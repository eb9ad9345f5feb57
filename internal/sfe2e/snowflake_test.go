package sfe2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/deferproxy/deferproxy/internal/fakesnow"
)

// TestSnowflake builds production with dbt-snowflake directly on fakesnow, then shows through deferproxy's Snowflake
// listener that gosnowflake reads deferred relations and gets production rows, that the listener is transparent
// for everything else (the same queries directly and through it agree), that the write guard refuses with a
// Snowflake error, and that a dev dbt run WITHOUT --defer equals native `--defer --state`, row for
// row (views, tables, a custom schema, an alias, tests), and one in favor_state equals native `--favor-state`, with
// the rewritten sqlText asserted as the account received it.
//
// The engine runs in defer mode with the Snowflake dev catalog (SHOW TERSE OBJECTS through gosnowflake, on
// fakesnow); a favor_state session is asked for at login (gosnowflake's DEFERPROXY_MODE, dbt's query_tag).
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
	catalogDSN := "fake:snow@127.0.0.1:" + direct + "/db?account=fakesnow&protocol=http&warehouse=w&maxRetryCount=1"
	l := startListener(t, rec.srv.URL, manifest, "dbt_dev", "defer", catalogDSN)
	directDB := openDB(t, fs.Port, "analytics", nil)
	proxyDB := openDB(t, l.port, "dbt_dev", nil)
	favorDB := openDB(t, l.port, "dbt_dev", map[string]string{"DEFERPROXY_MODE": "favor_state"})

	t.Run("gosnowflake reads production rows", func(t *testing.T) {
		i := rec.len()
		q := "select customer_id, name, total from db.dbt_dev.customer_totals order by customer_id"
		got := mustRows(t, proxyDB, q)
		want := mustRows(t, directDB, strings.Replace(q, "dbt_dev", "analytics", 1))
		if len(want) != 3 || !reflect.DeepEqual(got, want) {
			t.Errorf("through the listener %v, production %v", got, want)
		}
		if _, err := rows(t, directDB, q); err == nil {
			t.Errorf("db.dbt_dev.customer_totals exists directly: the test shows nothing")
		}
		sent := rec.since(i)
		if want := strings.Replace(q, "db.dbt_dev.", "db.analytics.", 1); !contains(sent, want) {
			t.Errorf("the account received %q, want %q", sent, want)
		}
		got = mustRows(t, favorDB, "select count(*) from db.dbt_dev.stg_orders")
		if len(got) != 1 || got[0][0] != "3" {
			t.Errorf("deferred view in favor_state: %v", got)
		}
	})

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

	t.Run("write guard", func(t *testing.T) {
		_, err := proxyDB.ExecContext(context.Background(), "insert into db.analytics.raw_orders values (99, 9, 1.0)")
		var se *sf.SnowflakeError
		if !errors.As(err, &se) || se.SQLState != "42501" || se.Number != 3001 {
			t.Fatalf("a dev session's write into production: %v (%#v)", err, err)
		}
		if got := mustRows(t, directDB, "select count(*) from db.analytics.raw_orders"); got[0][0] != "3" {
			t.Errorf("production changed: %v rows", got)
		}
	})

	t.Run("dbt dev run without --defer equals native --defer", func(t *testing.T) {
		sel := []string{"--select", "customer_totals+"}
		for _, args := range [][]string{{"run"}, {"test"}} {
			a := append(append(args, "--target", "native", "--defer", "--state", state), sel...)
			if out, ok := d.run(t, nil, a...); !ok {
				t.Fatalf("native dbt %v failed:\n%s", a, out)
			}
		}
		// Without deferproxy (and without --defer) the dev run fails: the test is meaningful.
		if out, ok := d.run(t, nil, append([]string{"run", "--target", "dev_direct"}, sel...)...); ok || !strings.Contains(out, "does not exist") {
			t.Fatalf("the dev run without deferproxy did not fail as expected:\n%s", out)
		}
		i := rec.len()
		env := []string{"SF_PROXY_PORT=" + strconv.Itoa(l.port), "SF_QUERY_TAG=team=data deferproxy.tag=sfe2e"}
		for _, args := range [][]string{{"run"}, {"test"}} {
			a := append(append(args, "--target", "dev"), sel...)
			if out, ok := d.run(t, env, a...); !ok {
				t.Fatalf("dbt %v through deferproxy failed:\n%s\n--- deferproxy log:\n%s", a, out, l.logs.String())
			}
		}
		for _, rel := range []string{"dbt_%s.customer_totals", "dbt_%s_marts.whales"} {
			q := "select * from db." + rel + " order by 1"
			native := mustRows(t, directDB, fmt.Sprintf(q, "native"))
			dev := mustRows(t, directDB, fmt.Sprintf(q, "dev"))
			if len(native) == 0 || !reflect.DeepEqual(native, dev) {
				t.Errorf("%s: native %v, through deferproxy %v", rel, native, dev)
			}
		}
		// The text the account received, exactly: unselected nodes read from production, the selected one from dev.
		sent := rec.since(i)
		for _, want := range []string{
			"create or replace transient table db.dbt_dev.customer_totals",
			"from db.analytics.raw_customers c",
			"left join db.analytics.stg_orders o on o.customer_id = c.id",
			"create or replace transient table db.dbt_dev_marts.whales",
			"from db.dbt_dev.customer_totals where total > 1",
		} {
			if !containsPart(sent, want) {
				t.Errorf("no statement sent through deferproxy contains %q", want)
			}
		}
		for _, s := range sent {
			if strings.Contains(s, "db.dbt_dev.stg_orders") || strings.Contains(s, "db.dbt_dev.raw_") {
				t.Errorf("a dev relation that does not exist was sent: %q", s)
			}
		}
		st := l.srv.Stats()
		if st.Deferrals == 0 || st.Refusals != 1 {
			t.Errorf("listener stats: %+v", st)
		}
		tagged := 0
		for _, s := range st.Sessions {
			if s.Tag == "sfe2e" {
				tagged++
			}
		}
		if tagged == 0 {
			t.Errorf("no session carries the tag from dbt's query_tag: %+v", st.Sessions)
		}
	})

	t.Run("dbt dev run in favor_state equals native --favor-state", func(t *testing.T) {
		// The dev copies of customer_totals (built by the subtest above, natively and through deferproxy) lose their
		// biggest customer, so a run that read them would differ from one that reads production's.
		for _, s := range []string{"dbt_native", "dbt_dev"} {
			q := "delete from db." + s + ".customer_totals where total = (select max(total) from db." + s + ".customer_totals)"
			if _, err := directDB.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		sel := []string{"--select", "big_customers"}
		a := append([]string{"run", "--target", "native", "--defer", "--state", state, "--favor-state"}, sel...)
		if out, ok := d.run(t, nil, a...); !ok {
			t.Fatalf("native dbt %v failed:\n%s", a, out)
		}
		// A fresh engine in favor_state: customer_totals was built through the other listener, unseen by this one,
		// so it is not selected (SPEC §4.3) and is read from production although its dev relation exists — what
		// dbt's --favor-state does for every node the run does not select.
		fl := startListener(t, rec.srv.URL, manifest, "dbt_dev", "favor_state", catalogDSN)
		i := rec.len()
		env := []string{"SF_PROXY_PORT=" + strconv.Itoa(fl.port)}
		if out, ok := d.run(t, env, append([]string{"run", "--target", "dev"}, sel...)...); !ok {
			t.Fatalf("dbt run through deferproxy in favor_state failed:\n%s\n--- deferproxy log:\n%s", out, fl.logs.String())
		}
		native := mustRows(t, directDB, "select * from db.dbt_native_marts.whales order by 1")
		dev := mustRows(t, directDB, "select * from db.dbt_dev_marts.whales order by 1")
		prod := mustRows(t, directDB, "select * from db.analytics_marts.whales order by 1")
		if len(native) == 0 || !reflect.DeepEqual(native, dev) || !reflect.DeepEqual(native, prod) {
			t.Errorf("whales: native --favor-state %v, through deferproxy %v, production %v", native, dev, prod)
		}
		if sent := rec.since(i); !containsPart(sent, "from db.analytics.customer_totals where total > 1") {
			t.Errorf("no statement sent through deferproxy in favor_state reads production's customer_totals: %q", sent)
		}
	})

	t.Run("no secret shown", func(t *testing.T) {
		st, _ := json.Marshal(l.srv.Stats())
		shown := l.logs.String() + string(st)
		for _, secret := range []string{"snow-TestSnowflake", "PASSWORD", "fake:snow@"} {
			if strings.Contains(shown, secret) {
				t.Errorf("%q shown in the listener's log or status", secret)
			}
		}
		if !strings.Contains(l.logs.String(), "snowflake session") {
			t.Errorf("the log has no session line; the check shows nothing")
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsPart(list []string, part string) bool {
	for _, x := range list {
		if strings.Contains(x, part) {
			return true
		}
	}
	return false
}
