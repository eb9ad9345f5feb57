package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestManifestShow: `deferproxy manifest show` fetches a source with the configuration serve would use (here
// manifest_headers and manifest_run_url from the environment) and prints the run, dbt version and deferrable nodes.
func TestManifestShow(t *testing.T) {
	body, err := demoData.ReadFile("demodata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "s3cr3t" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	out, _, err := run(t, ctx, "manifest", "show", filepath.Dir(writeDemoManifest(t))) // a directory: its manifest.json
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"(file)", "run            cf60827c-453f-4929-9179-15db56c9c697", "project        jaffle_shop (postgres)",
		"dbt version    1.", "deferrable     ", "model "} {
		if !strings.Contains(out, w) {
			t.Errorf("manifest show of a directory lacks %q:\n%s", w, out)
		}
	}

	if _, _, err := run(t, ctx, "manifest", "show", srv.URL+"/manifest.json"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("without the configured header: %v", err)
	}
	t.Setenv("DEFERPROXY_MANIFEST_HEADERS", "X-Token: s3cr3t\nX-Other: 1")
	t.Setenv("DEFERPROXY_MANIFEST_RUN_URL", "https://ci.example/runs/{invocation_id}")
	out, stderr, err := run(t, ctx, "manifest", "show", srv.URL+"/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"(http)", "url            https://ci.example/runs/cf60827c-453f-4929-9179-15db56c9c697"} {
		if !strings.Contains(out, w) {
			t.Errorf("manifest show over http lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out+stderr, "s3cr3t") {
		t.Errorf("the header's value was printed:\n%s%s", out, stderr)
	}
	t.Setenv("DEFERPROXY_MANIFEST_HEADERS", "X-Token s3cr3t")
	_, _, err = run(t, ctx, "manifest", "show", srv.URL+"/manifest.json")
	if err == nil || !strings.Contains(err.Error(), "manifest_headers (from environment variable DEFERPROXY_MANIFEST_HEADERS)") ||
		strings.Contains(err.Error(), "s3cr3t") || exitCode(err) != 2 {
		t.Fatalf("a malformed header: %v", err)
	}
}

// TestServeRemoteManifest: serve builds the production source from the configuration — an http(s) source with its
// run URL template, cached in state_dir — and /status names the run and the source's health.
func TestServeRemoteManifest(t *testing.T) {
	body, err := demoData.ReadFile("demodata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	cfg := testConfig(t, "postgres://127.0.0.1:1/db") // never dialled by this test
	cfg.Manifest = srv.URL + "/prod/manifest.json"
	cfg.ManifestRunURL = "https://ci.example/runs/{invocation_id}"
	cfg.StateDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst, err := start(ctx, cfg, newTestLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer inst.shutdown(time.Second)
	code, status := httpGet(t, "http://"+inst.adminAddr()+"/status")
	var doc statusDoc
	if err := json.Unmarshal([]byte(status), &doc); err != nil || code != 200 || doc.Engine == nil || doc.Engine.Production == nil ||
		doc.Engine.ProductionSource == nil {
		t.Fatalf("/status (%d, %v):\n%s", code, err, status)
	}
	run, src := doc.Engine.Production, doc.Engine.ProductionSource
	if run.RunID != "cf60827c-453f-4929-9179-15db56c9c697" || run.URL != "https://ci.example/runs/"+run.RunID ||
		src.Kind != "http" || src.Source != srv.URL+"/prod/manifest.json" || src.LastCheck.IsZero() || src.LastChange.IsZero() {
		t.Errorf("/status: run %+v, source %+v", run, src)
	}
	if files, _ := filepath.Glob(filepath.Join(cfg.StateDir, "production-manifest-*.json")); len(files) != 2 {
		t.Errorf("state_dir holds %v, want the manifest and its run", files)
	}
}
