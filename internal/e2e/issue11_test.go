package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/deferral"
)

// Issue 11's rows ("no silent misses"), each run natively (`--defer --state`) and through the proxy with and without
// the dev manifest. What they measure is the README's "Differences from native defer".

// branchProj: what a dev branch does that the production manifest cannot know (testdata/branchproj).
var branchProj = &project{
	name:         "branchproj",
	testdata:     "branchproj",
	profile:      "branchproj",
	withDbtUtils: true,
	deps:         true,
	prodBuild:    [][]string{{"seed"}, {"run"}},
	prodChange: []string{
		`update {prod}.raw_orders set amount = amount * 10`,
		`update {prod}_raw.raw_payments set amount = amount + 100`,
	},
}

// renamedAlias are the dbt arguments of the branch that renames stg_orders' alias orders_staged → orders_stg.
var renamedAlias = []string{"--vars", "{stg_orders_alias: orders_stg}"}

// branchManifest parses the project the way the developer's branch does (what its target/manifest.json holds).
func branchManifest(t *testing.T, r *projectRig, name string, extra ...string) string {
	t.Helper()
	dir := filepath.Join(r.tmp, "branch-manifest-"+name)
	r.dbt.mustRun(t, dir, nil, append([]string{"parse", "--target", targetDevProxy}, extra...)...)
	return filepath.Join(dir, "manifest.json")
}

// row logs one line of the issue's table (native, proxy without / with the dev manifest).
func row(t *testing.T, scenario, native, without, with string) {
	t.Helper()
	if t.Failed() {
		return
	}
	t.Logf("ROW | %s | %s | %s | %s", scenario, native, without, with)
}

// engineStatus decodes the engine's status out of a devRun's note (its JSON, then the log).
func engineStatus(t *testing.T, note string) deferral.Status {
	t.Helper()
	var st deferral.Status
	j := note
	if i := strings.Index(j, "\nproxy log:\n"); i >= 0 {
		j = j[:i]
	}
	if err := json.Unmarshal([]byte(j), &st); err != nil {
		t.Fatalf("engine status: %v\n%s", err, tail(note, 2000))
	}
	return st
}

// TestIssue11RenamedAlias: the branch renames a model's alias. Without the dev manifest the proxy cannot know
// dbt_dev.orders_stg is stg_orders: the run fails with PostgreSQL's error and deferproxy's HINT saying why and what to
// configure; with the branch's dev manifest the run equals native defer.
func TestIssue11RenamedAlias(t *testing.T) {
	r := rigFor(t, branchProj)
	args := append([]string{"run", "-s", "fct_orders"}, renamedAlias...)
	native := r.runDevOpts(t, "native", modeDefer, args, devOpts{noStale: true})
	if native.run.ExitCode != 0 {
		t.Fatalf("native: %s", tail(native.run.Output, 3000))
	}
	checkReads(t, native, []string{"analytics.orders_staged"})

	without := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true})
	if without.run.ExitCode == 0 {
		t.Fatalf("without the dev manifest the run should fail on dbt_dev.orders_stg:\n%s", without.note)
	}
	for _, w := range []string{
		`relation "dbt_dev.orders_stg" does not exist`,
		`HINT:  deferproxy: dbt_dev.orders_stg is no dbt node's dev relation in the mapping in use (derived from the production manifest; no dev manifest), so it was not deferred to production.`,
		`Nearby: model stg_orders (production analytics.orders_staged, dev dbt_dev.orders_staged): if your branch renamed its alias (or the model), only the dev manifest knows.`,
		`Fix: give deferproxy your dev manifest (--dev-manifest target/manifest.json, or --project-dir with your dbt project), or map the schema (--schema-map dbt_dev=<production schema>)`,
	} {
		if !strings.Contains(without.run.Output, w) {
			t.Errorf("dbt's output lacks %q:\n%s", w, tail(without.run.Output, 4000))
		}
	}

	with := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true,
		devManifest: branchManifest(t, r, "renamed", renamedAlias...)})
	compareRuns(t, native, with)
	row(t, "renamed alias orders_staged→orders_stg, run -s fct_orders", "ok", "fails: 42P01 with deferproxy's HINT (asserted)", "identical")
}

// TestIssue11CustomSchemaSeed: a seed in a custom schema (analytics_raw / dbt_dev_raw), read by a model, equals native
// defer with and without the dev manifest.
func TestIssue11CustomSchemaSeed(t *testing.T) {
	r := rigFor(t, branchProj)
	args := []string{"run", "-s", "payment_totals"}
	native := r.runDevOpts(t, "native", modeDefer, args, devOpts{noStale: true})
	checkReads(t, native, []string{"analytics_raw.raw_payments"})
	without := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true})
	compareRuns(t, native, without)
	with := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true, devManifest: branchManifest(t, r, "plain")})
	compareRuns(t, native, with)
	row(t, "seed in a custom schema, run -s payment_totals", "ok", "identical", "identical")
}

// TestIssue11GetColumnValues: dbt_utils.get_column_values over a deferred ref asks adapter.get_relation, which dbt
// answers from its own listing of dbt_dev (left true by the proxy): natively one column per payment method, through
// the proxy the default (none) — with and without the dev manifest. The difference must be loud: the engine's status
// warns (get_relation, counted) and its log names the schema and relation.
func TestIssue11GetColumnValues(t *testing.T) {
	r := rigFor(t, branchProj)
	args := []string{"run", "-s", "payment_methods"}
	native := r.runDevOpts(t, "native", modeDefer, args, devOpts{noStale: true})
	if native.run.ExitCode != 0 {
		t.Fatalf("native: %s", tail(native.run.Output, 3000))
	}
	checkReads(t, native, []string{"analytics.stg_payments"})
	kd := knownDifference{why: "get_column_values answers from dbt's listing of the dev schema",
		dataDiffers: true, relations: []string{"dbt_dev.payment_methods"}}
	for _, v := range []struct {
		name string
		o    devOpts
	}{
		{"without the dev manifest", devOpts{noStale: true}},
		{"with the dev manifest", devOpts{noStale: true, devManifest: branchManifest(t, r, "plain")}},
	} {
		t.Run(v.name, func(t *testing.T) {
			proxied := r.runDevOpts(t, "proxy", modeDefer, args, v.o)
			checkKnownDifference(t, native, proxied, kd)
			// Rows as text: natively (order_id, card, coupon, transfer amounts), through the proxy (order_id) alone.
			if !strings.Contains(native.snap["dbt_dev.payment_methods"], "(3,0,115,115)") ||
				!strings.Contains(proxied.snap["dbt_dev.payment_methods"], "(3)") ||
				strings.Contains(proxied.snap["dbt_dev.payment_methods"], ",") {
				t.Errorf("native should pivot the methods and the proxy run not:\nnative %s\nproxy %s",
					native.snap["dbt_dev.payment_methods"], proxied.snap["dbt_dev.payment_methods"])
			}
			st := engineStatus(t, proxied.note)
			var w *deferral.Warning
			for i := range st.Warnings {
				if st.Warnings[i].Kind == "get_relation" {
					w = &st.Warnings[i]
				}
			}
			if w == nil || w.Count != 1 || !strings.Contains(w.Text, "dbt_utils.get_column_values") ||
				len(st.GetRelation) != 1 || st.GetRelation[0].Schema != "dbt_dev" ||
				strings.Join(st.GetRelation[0].Relations, ",") != "stg_payments" {
				t.Errorf("status warning: %+v, latest %+v", w, st.GetRelation)
			}
			if !strings.Contains(proxied.note, "dbt listed a dev schema that lacks relations deferproxy defers") {
				t.Errorf("the proxy log lacks the warning:\n%s", tail(proxied.note, 3000))
			}
		})
	}
	row(t, "dbt_utils.get_column_values(ref('stg_payments')), run -s payment_methods", "3 method columns",
		"no method column; WARNING in log, /status get_relation=1, exec summary", "the same (loud)")
}

// TestIssue11SnapshotTargetSchema: snapproj's snapshot with target_schema over the target, with the dev manifest, and
// a schema map for the snapshots' schema without it: the map adds to derivation (order_payments' derived snapshot and
// custom-schema seed still map), and both equal native defer. (Without either, snapProj's fidelity cases.)
func TestIssue11SnapshotTargetSchema(t *testing.T) {
	r := rigFor(t, snapProj)
	args := []string{"run", "-s", "order_history", "order_payments"}
	native := r.runDev(t, "native", modeDefer, args)
	checkReads(t, native, []string{"dbt_dev_snapshots.orders_snapshot", "analytics_raw.raw_payments", "analytics_history.payments_snapshot"})
	schemaMap := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{proxyConfig: func(c *deferral.Config) {
		c.SchemaMap = map[string]string{"dbt_dev_snapshots": "analytics_snapshots"}
	}})
	compareRuns(t, native, schemaMap)
	if st := engineStatus(t, schemaMap.note); !strings.HasPrefix(st.Mapping, "derived:") || len(st.Warnings) != 0 {
		t.Errorf("with the schema map: mapping %q, warnings %+v", st.Mapping, st.Warnings)
	}
	with := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{devManifest: branchManifest(t, r, "snap")})
	compareRuns(t, native, with)
	row(t, "snapshot target_schema=target.schema~'_snapshots' + custom-schema seed, run -s order_history order_payments",
		"ok", "identical (derivation; and with --schema-map dbt_dev_snapshots=analytics_snapshots, which adds to it)", "identical")
}

// TestIssue11OutOfBand: a dev view created, then one dropped, directly in the warehouse (not through the proxy) after
// the proxy listed the dev schema, then `dbt run` through the proxy. Without deferproxy's DDL notification triggers
// the proxy converges within catalog_ttl (2 s here: a read through the proxy is polled until it sees the change —
// bounded waiting, no time asserted) and the run equals native defer; with them (`deferproxy setup-notify`, a one-hour
// TTL, so only a notification explains it) the run right after the change equals native defer.
func TestIssue11OutOfBand(t *testing.T) {
	r := rigFor(t, branchProj)
	args := []string{"run", "-s", "payments_by_order"}
	const create = `create view {dev}.stg_payments as
		select id as payment_id, order_id, method, amount * 1000 as amount from {prod}_raw.raw_payments`
	const probe = `select max(amount)::text from dbt_dev.stg_payments` // > 1000: the dev view; else production's
	type change struct {
		name      string
		before    []string // direct, before the proxy lists the schema
		after     []string // direct, after it did
		wantDev   bool     // the change makes the dev view the one to read
		wantReads string
	}
	changes := []change{
		{"created", nil, []string{create}, true, "dbt_dev.stg_payments"},
		{"dropped", []string{create}, []string{`drop view {dev}.stg_payments`}, false, "analytics.stg_payments"},
	}
	natives := map[string]devRun{}
	for _, c := range changes {
		c := c
		natives[c.name] = r.runDevOpts(t, "native", modeDefer, args, devOpts{noStale: true, beforeRun: func(*proxyHandle) {
			for _, s := range append(append([]string{}, c.before...), c.after...) {
				execSQL(t, r.url, expand(s))
			}
		}})
		checkReads(t, natives[c.name], []string{c.wantReads})
	}
	readsDev := func(px *proxyHandle) (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, proxyURL(px, r.db))
		if err != nil {
			return false, err
		}
		defer conn.Close(ctx)
		var max string
		if err := conn.QueryRow(ctx, probe).Scan(&max); err != nil {
			return false, err
		}
		return len(max) >= 4, nil
	}
	for _, notify := range []bool{false, true} {
		name := map[bool]string{false: "catalog_ttl", true: "notify"}[notify]
		if notify {
			execSQL(t, r.url, catalog.NotifySQL)
			t.Cleanup(func() {
				execSQL(t, r.url, `drop event trigger if exists deferproxy_ddl; drop event trigger if exists deferproxy_drop`)
			})
		}
		for _, c := range changes {
			c := c
			t.Run(name+"/"+c.name, func(t *testing.T) {
				proxied := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true,
					proxyConfig: func(cfg *deferral.Config) {
						cfg.CatalogTTL = map[bool]time.Duration{false: 2 * time.Second, true: time.Hour}[notify]
					},
					beforeRun: func(px *proxyHandle) {
						for _, s := range c.before {
							execSQL(t, r.url, expand(s))
						}
						// The proxy lists dbt_dev now (and, with the triggers, starts listening).
						if dev, err := readsDev(px); err != nil || dev != !c.wantDev {
							t.Fatalf("before the change: dev %v, %v", dev, err)
						}
						if notify {
							listening := func() bool {
								for _, on := range px.engine.Status().DevCatalogNotify {
									if on {
										return true
									}
								}
								return false
							}
							if !waitFor(listening) {
								t.Fatalf("the dev catalog does not listen for DDL notifications:\n%s", tail(px.status(), 3000))
							}
						}
						for _, s := range c.after {
							execSQL(t, r.url, expand(s))
						}
						if !notify {
							// Bounded by catalog_ttl: poll until the proxy sees the change.
							waitUntil(t, "the proxy sees the out-of-band change", func() bool {
								dev, err := readsDev(px)
								var pe *pgconn.PgError
								if errors.As(err, &pe) && pe.Code != "42P01" {
									// 42P01 is the window itself: the listing still has the dropped view.
									t.Fatalf("read through the proxy: %v", err)
								}
								return err == nil && dev == c.wantDev
							})
						}
					}})
				compareRuns(t, natives[c.name], proxied)
				checkReads(t, proxied, []string{c.wantReads})
			})
		}
	}
	row(t, "dev view created / dropped directly in the warehouse, then run -s payments_by_order", "dev rows / production rows",
		"identical after catalog_ttl (converged, 2 s TTL); identical at once with setup-notify (1 h TTL)", "the same (the dev manifest plays no part)")
}

// waitUntil polls cond every 100 ms for up to a minute: a bound on waiting on a shared machine, not a timing
// assertion.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !waitFor(cond) {
		t.Fatalf("%s: not within a minute", what)
	}
}

// waitFor polls cond every 100 ms for up to a minute and reports whether it came true.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}
