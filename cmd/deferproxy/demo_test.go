package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// TestDemo runs `deferproxy demo` for real, as `make demo` does: a throwaway PostgreSQL, the bundled example, the
// proxy with the defer engine, the script through pgx, then serving until interrupted (here: ctx cancelled once it
// says so). Its output must show each behaviour the demo promises, in order.
func TestDemo(t *testing.T) {
	if _, _, err := pgtest.FindBinDir(); err != nil && !pgtest.InCI() {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srvCtx, interrupt := context.WithCancel(ctx)
	root := newRootCmd()
	var stdout, stderr syncBuffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	done := make(chan error, 1)
	go func() {
		done <- execute(srvCtx, root, []string{"demo", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"})
	}()
	var err error
	for waiting := true; waiting; {
		select {
		case err = <-done:
			t.Fatalf("demo ended before serving: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
			waiting = !strings.Contains(stdout.String(), "Serving until Ctrl-C")
		}
	}
	interrupt() // Ctrl-C
	if err = <-done; err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "the defer engine is not running") {
		t.Fatalf("demo ran pass-through:\n%s", out)
	}
	// Each step's evidence, in the order the script runs them. The data tells which relation was read: the dev
	// stg_customers has upper-cased names, production's does not.
	steps := []string{
		"=> SELECT count(*) AS orders, sum(amount) AS revenue FROM dbt_demo.orders",
		"NOTICE: deferred 1 relation to production run jaffle_shop",
		"dbt_demo.orders → analytics.orders",
		"orders=99  revenue=1672",
		"=> SELECT customer_id, first_name, last_name FROM dbt_demo.stg_customers WHERE customer_id = 1",
		"customer_id=1  first_name=MICHAEL  last_name=P.",
		"dbt_demo.customers → analytics.customers",
		"first_name=MICHAEL  number_of_orders=2",
		"=> SET deferproxy.mode = 'favor_state'",
		"deferproxy.mode=favor_state",
		"dbt_demo.stg_customers → analytics.stg_customers",
		"customer_id=1  first_name=Michael  last_name=P.",
		"=> RESET deferproxy.mode",
		"=> DELETE FROM analytics.orders WHERE order_id = 1",
		"ERROR 42501: ",
		"analytics.orders",
		"orders_in_production=99",
		"=> SHOW deferproxy.status",
		"deferproxy.status=production run jaffle_shop cf60827c-453f-4929-9179-15db56c9c697",
		"relations deferred 3, refused 1",
		"Latest deferrals",
		"psql:",
		"schema: dbt_demo",
	}
	rest := out
	for _, s := range steps {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("demo output lacks %q after the previous step; output:\n%s", s, out)
		}
		rest = rest[i+len(s):]
	}
	// Step 2 (defer mode, dev relation exists) must not have been deferred: exactly one NOTICE between its statement
	// and step 3's result, and it is step 3's.
	step2 := out[strings.Index(out, "2. No deferral"):strings.Index(out, "3. A join")]
	if strings.Contains(step2, "NOTICE") {
		t.Errorf("step 2 was deferred:\n%s", step2)
	}
	// The proxy address printed for psql is a real port.
	if !regexp.MustCompile(`psql: +\S*psql "postgres://postgres@127\.0\.0\.1:\d+/jaffle\?sslmode=disable"`).MatchString(out) {
		t.Errorf("no psql line with the proxy URL:\n%s", out)
	}
}

// TestDemoData checks the bundled example is consistent: the manifest is dbt's, names the production schema the SQL
// creates, and the dev schema holds exactly the one changed model.
func TestDemoData(t *testing.T) {
	b, err := demoData.ReadFile("demodata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Metadata struct {
			SchemaVersion string `json:"dbt_schema_version"`
			ProjectName   string `json:"project_name"`
		} `json:"metadata"`
		Nodes map[string]struct {
			ResourceType string `json:"resource_type"`
			Schema       string `json:"schema"`
			Database     string `json:"database"`
			Name         string `json:"name"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.Metadata.SchemaVersion, "/v12.json") || m.Metadata.ProjectName != "jaffle_shop" {
		t.Fatalf("unexpected manifest metadata %+v", m.Metadata)
	}
	prod, _ := demoData.ReadFile("demodata/prod.sql")
	models := 0
	for id, n := range m.Nodes {
		if n.ResourceType != "model" && n.ResourceType != "seed" {
			continue
		}
		models++
		if n.Database != demoDatabase || n.Schema != "analytics" {
			t.Errorf("%s is in %s.%s, want %s.analytics", id, n.Database, n.Schema, demoDatabase)
		}
		if !regexp.MustCompile(`CREATE (TABLE|VIEW) analytics\.` + n.Name + ` `).Match(prod) {
			t.Errorf("prod.sql does not create analytics.%s", n.Name)
		}
	}
	if models != 8 {
		t.Errorf("%d models and seeds in the manifest, want jaffle_shop's 8", models)
	}
	dev, _ := demoData.ReadFile("demodata/dev.sql")
	if got := regexp.MustCompile(`CREATE (TABLE|VIEW) dbt_demo\.(\w+)`).FindAllStringSubmatch(string(dev), -1); len(got) != 1 || got[0][2] != "stg_customers" {
		t.Errorf("dev.sql creates %v, want only dbt_demo.stg_customers", got)
	}
}

// TestDemoFallsBackToPassThrough: when the engine cannot start, the demo still serves, as a pass-through, and says why.
func TestDemoFallsBackToPassThrough(t *testing.T) {
	cluster := pgtest.Shared(t)
	o := demoOptions{listen: "127.0.0.1:0", admin: "127.0.0.1:0", listenSet: true, logLevel: "warn", shutdownTimeout: time.Second}
	// A manifest "directory" that is a regular file: the watcher cannot be set up, so the engine cannot start (a
	// directory that merely does not exist yet is not an error: it may appear later).
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := demoConfig(cluster.Cluster, filepath.Join(notDir, "target", "manifest.json"), o)
	var said strings.Builder
	inst, err := startDemoProxy(context.Background(), cfg, &o, newTestLogger(t), func(f string, a ...any) { fmt.Fprintf(&said, f, a...) })
	if err != nil {
		t.Fatal(err)
	}
	defer inst.shutdown(time.Second)
	if inst.engine != nil || !strings.Contains(o.passThroughReason, "defer engine") {
		t.Fatalf("engine %v, reason %q: want pass-through with the engine's error", inst.engine, o.passThroughReason)
	}
	var out strings.Builder
	// The demo tables are not in this database: the proxy forwards the statement unchanged and PostgreSQL answers
	// 42P01 — a server error, proof the session went through a pass-through proxy.
	if err := runDemoScript(context.Background(), "postgres://postgres@"+inst.proxyAddr()+"/postgres?sslmode=disable", &out); err != nil {
		t.Fatalf("script through the pass-through proxy: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `ERROR 42P01: relation "dbt_demo.orders" does not exist`) || strings.Contains(out.String(), "NOTICE") {
		t.Fatalf("pass-through script output:\n%s", out.String())
	}
	var st strings.Builder
	if err := showStatus(context.Background(), adminClient{addr: inst.adminAddr()}, &st); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.String(), "pass-through: no production manifest configured") {
		t.Fatalf("status does not say pass-through:\n%s", st.String())
	}
}

// TestDemoExitAfterScript: with --exit-after-script the demo says it stops, and does not invite the user to connect
// to a proxy that is gone.
func TestDemoExitAfterScript(t *testing.T) {
	if _, _, err := pgtest.FindBinDir(); err != nil && !pgtest.InCI() {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, stderr, err := run(t, ctx, "demo", "--exit-after-script", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	if !strings.Contains(out, "orders=99  revenue=1672") || !strings.Contains(out, "The demo proxy stops here") {
		t.Fatalf("demo --exit-after-script output:\n%s", out)
	}
	for _, no := range []string{"Try it yourself", "psql:", "Serving until"} {
		if strings.Contains(out, no) {
			t.Errorf("demo --exit-after-script says %q for a proxy that has stopped:\n%s", no, out)
		}
	}
}
