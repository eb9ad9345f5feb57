package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

func writeDemoManifest(t *testing.T) string {
	t.Helper()
	b, err := demoData.ReadFile("demodata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// testConfig is a valid serve configuration in front of upstream, with the engine on the bundled manifest.
func testConfig(t *testing.T, upstream string) Config {
	cmd := newServeCmd()
	cfg, err := loadConfig(cmd, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.Admin, cfg.Upstream = "127.0.0.1:0", "127.0.0.1:0", upstream
	cfg.Manifest, cfg.DevSchema = writeDemoManifest(t), demoDevSchema
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestInstance starts what `serve` starts, in process, in front of the shared PostgreSQL: TLS to clients from
// --tls-cert/--tls-key, the engine from --manifest, the admin listener, then a graceful shutdown.
func TestInstance(t *testing.T) {
	cluster := pgtest.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The bundled example's database (the only test of this binary that creates it on the shared cluster).
	_, cleanup, err := loadDemo(ctx, cluster.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	cfg := testConfig(t, cluster.URL(pgtest.SuperUser, "", demoDatabase))
	cfg.CatalogDSN = cluster.URL(pgtest.SuperUser, "", demoDatabase)
	cfg.TLSCert, cfg.TLSKey = cluster.CertFile, cluster.KeyFile
	// The bundled manifest was generated on a fixed day: a staleness limit far beyond its age keeps this test
	// independent of today's date (deferral's tests cover the stale case).
	cfg.StaleAfter = 100 * 365 * 24 * time.Hour
	inst, err := start(ctx, cfg, newTestLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			inst.shutdown(time.Second)
		}
	}()

	// TLS: verify-full against the test CA proves the proxy presented the configured certificate.
	_, port, _ := net.SplitHostPort(inst.proxyAddr())
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:"+port+"/"+demoDatabase+"?sslmode=verify-full&sslrootcert="+cluster.CAFile)
	if err != nil {
		t.Fatalf("TLS connect through the proxy: %v", err)
	}
	var mode string
	if err := conn.QueryRow(ctx, "SHOW deferproxy.mode").Scan(&mode); err != nil || mode != "defer" {
		t.Fatalf("SHOW deferproxy.mode = %q, %v (is the engine wired in?)", mode, err)
	}
	var orders int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM dbt_demo.orders").Scan(&orders); err != nil || orders != 99 {
		t.Fatalf("deferred read of dbt_demo.orders: %d, %v", orders, err)
	}

	admin := "http://" + inst.adminAddr()
	if code, body := httpGet(t, admin+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	code, metrics := httpGet(t, admin+"/metrics")
	for _, w := range []string{"deferproxy_sessions_active 1", "deferproxy_engine_enabled 1", "deferproxy_manifest_loaded 1",
		`deferproxy_engine_sessions{mode="defer"} 1`, "deferproxy_deferrals_total 1", "deferproxy_statements_rewritten_total 1",
		"deferproxy_manifest_stale 0"} {
		if code != 200 || !strings.Contains(metrics, w) {
			t.Errorf("/metrics (%d) lacks %q", code, w)
		}
	}
	code, page := httpGet(t, admin+"/")
	if code != 200 || !strings.Contains(page, "<td><code>dbt_demo.orders</code></td><td><code>analytics.orders</code></td>") {
		t.Errorf("status page (%d) does not list the deferral:\n%s", code, page)
	}
	var out strings.Builder
	if err := showStatus(ctx, adminClient{addr: inst.adminAddr()}, &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"ready", "1 open", "jaffle_shop cf60827c", "checked        ", "Default mode   defer", "postgres         jaffle", "dbt_demo.orders → analytics.orders"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("status lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "NOT READY") {
		t.Errorf("status says not ready:\n%s", out.String())
	}

	// POST /mode reaches the engine: new sessions start in favor_state.
	resp, err := http.Post(admin+"/mode", "application/json", strings.NewReader(`{"mode":"favor_state"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /mode: %v %v", resp, err)
	}
	resp.Body.Close()
	conn2, err := pgx.Connect(ctx, "postgres://postgres@"+inst.proxyAddr()+"/"+demoDatabase+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if err := conn2.QueryRow(ctx, "SHOW deferproxy.mode").Scan(&mode); err != nil || mode != "favor_state" {
		t.Fatalf("new session after POST /mode: %q, %v", mode, err)
	}

	stopped = true
	if err := inst.shutdown(500 * time.Millisecond); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(new(int)); err == nil {
		t.Fatal("session survived shutdown")
	}
	if _, err := net.DialTimeout("tcp", inst.proxyAddr(), time.Second); err == nil {
		t.Fatal("proxy still accepts after shutdown")
	}
}

// TestReadiness: /readyz is 503 with the reason when the upstream does not answer, and the proxy itself still runs.
func TestReadiness(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := testConfig(t, "postgres://"+dead+"/jaffle?sslmode=disable")
	cfg.CatalogDSN = "postgres://postgres@" + dead + "/jaffle?sslmode=disable"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := start(ctx, cfg, newTestLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.shutdown(time.Second)
	code, body := httpGet(t, "http://"+inst.adminAddr()+"/readyz")
	if code != 503 || !strings.Contains(body, "upstream "+dead+" unreachable") {
		t.Fatalf("/readyz = %d %q, want 503 naming the upstream", code, body)
	}
	if code, _ := httpGet(t, "http://"+inst.adminAddr()+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d, want 200 while the listener runs", code)
	}
}

// TestManifestArrivesLater: a manifest whose directory does not exist yet is not fatal (SPEC §6): the proxy serves,
// is not ready until the manifest loads, and becomes ready once dbt writes it.
func TestManifestArrivesLater(t *testing.T) {
	cluster := pgtest.Shared(t)
	cfg := testConfig(t, cluster.URL(pgtest.SuperUser, "", "postgres"))
	demo, err := os.ReadFile(cfg.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "target")
	cfg.Manifest = filepath.Join(target, "manifest.json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := start(ctx, cfg, newTestLogger(t))
	if err != nil {
		t.Fatalf("start with a manifest directory that does not exist yet: %v", err)
	}
	defer inst.shutdown(time.Second)
	ready := "http://" + inst.adminAddr() + "/readyz"
	if code, body := httpGet(t, ready); code != 503 || !strings.Contains(body, "no production manifest loaded") {
		t.Fatalf("/readyz = %d %q, want 503 naming the manifest", code, body)
	}
	var out strings.Builder
	if err := showStatus(ctx, adminClient{addr: inst.adminAddr()}, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "none loaded yet") || strings.Contains(s, "last good manifest stays in use") {
		t.Errorf("status without a manifest:\n%s", s)
	}
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Manifest, demo, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second) // a bound on waiting, not an assertion on speed
	for {
		code, body := httpGet(t, ready)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %q after the manifest appeared", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestListenInUse: a taken address is reported with the flag to change.
func TestListenInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t, "postgres://127.0.0.1:5432/jaffle")
	cfg.Manifest, cfg.DevSchema = "", ""
	cfg.Listen = ln.Addr().String()
	_, err = start(context.Background(), cfg, newTestLogger(t))
	if err == nil || !strings.Contains(err.Error(), "pass --listen with a free address") {
		t.Fatalf("start on a taken address: %v", err)
	}
	cfg.Listen, cfg.Admin = "127.0.0.1:0", ln.Addr().String()
	_, err = start(context.Background(), cfg, newTestLogger(t))
	if err == nil || !strings.Contains(err.Error(), "--admin") {
		t.Fatalf("admin on a taken address: %v", err)
	}
}
