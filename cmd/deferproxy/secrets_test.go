package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// leakChecker collects everything deferproxy showed during a test and says which secret any of it holds.
type leakChecker struct {
	secrets []string
	shown   map[string]string // what → text
}

func (l *leakChecker) saw(what, text string) { l.shown[what] += text }

func (l *leakChecker) check(t *testing.T) {
	t.Helper()
	for what, text := range l.shown {
		for _, s := range l.secrets {
			for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
				if strings.Contains(text, form) {
					t.Errorf("%s shows the secret %q:\n%s", what, form, text)
				}
			}
		}
	}
}

// TestNoSecretShown (issue 10, row 11): serve runs with a secret in every form it reads — the upstream URL's
// userinfo and its query's password=, a catalog DSN with a password and an sslpassword, a manifest URL with a token
// user and a presigned query, a manifest header's bearer token, the schedulers' tokens in the environment — while its
// log is captured, a dev-catalog failure and a manifest source failure are provoked, and /status, /readyz, /metrics,
// the page and `deferproxy status` (text and --json, sending the admin token from DEFERPROXY_ADMIN_TOKEN) are read; then configuration errors are provoked for a key=value
// DSN, unparsable URLs and a bad sslmode. No secret appears anywhere.
func TestNoSecretShown(t *testing.T) {
	cluster := pgtest.Shared(t)
	leaks := &leakChecker{shown: map[string]string{}, secrets: []string{
		"UpUserPw_2c4", "UpQueryPw/0e9", "CatalogPw_4b7", "SslKeyPw_6a0", "ManifestTok_5d1", "PresignSig+31c",
		"HeaderTok_8e2", "DbtCloudTok_1f0", "ParadimeKey_3aa", "ParadimeSecret_9bb", "KvPw x' y", "BadUrlPw_1", "SnowPw_77", "AdminTok_c0d",
	}}

	// The manifest source: the demo manifest once, then a dropped connection (net/http's error prints the URL).
	body, err := demoData.ReadFile("demodata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.Write(body)
			return
		}
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	manifestURL := strings.Replace(srv.URL, "http://", "http://ManifestTok_5d1@", 1) +
		"/prod/manifest.json?X-Amz-Signature=" + url.QueryEscape("PresignSig+31c") + "&X-Amz-Expires=3600"

	upstream := "postgres://" + pgtest.SuperUser + ":UpUserPw_2c4@" + cluster.Addr() + "/postgres?sslmode=disable&password=" +
		url.QueryEscape("UpQueryPw/0e9")
	env := map[string]string{
		"DEFERPROXY_UPSTREAM":         upstream,
		"DEFERPROXY_CATALOG_DSN":      "postgres://cat:CatalogPw_4b7@127.0.0.1:1/db?sslmode=disable&sslpassword=SslKeyPw_6a0",
		"DEFERPROXY_MANIFEST":         manifestURL,
		"DEFERPROXY_MANIFEST_HEADERS": "Authorization: Bearer HeaderTok_8e2",
		"DEFERPROXY_MANIFEST_POLL":    "200ms",
		"DEFERPROXY_STATE_DIR":        t.TempDir(),
		"DEFERPROXY_DEV_SCHEMA":       demoDevSchema,
		"DEFERPROXY_LOG_LEVEL":        "debug",
		"DBT_CLOUD_API_TOKEN":         "DbtCloudTok_1f0",
		"PARADIME_API_KEY":            "ParadimeKey_3aa",
		"PARADIME_API_SECRET":         "ParadimeSecret_9bb",
		"DEFERPROXY_ADMIN_TOKEN":      "AdminTok_c0d",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sctx, stop := context.WithCancel(ctx)
	root := newRootCmd()
	var logs, out syncBuffer
	root.SetOut(&out)
	root.SetErr(&logs)
	done := make(chan error, 1)
	go func() {
		done <- execute(sctx, root, []string{"serve", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--log-format", "json"})
	}()
	listen := waitForLog(t, &logs, `"msg":"deferproxy serving"`, `"listen":"`)
	adminAddr := waitForLog(t, &logs, `"msg":"deferproxy serving"`, `"admin":"`)

	// A statement that consults the (unreachable) dev catalog: its failure is logged and reported.
	conn, err := pgx.Connect(ctx, "postgres://"+pgtest.SuperUser+"@"+listen+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "SELECT * FROM "+demoDevSchema+".orders")
	// The source fails after the first load: wait until /status reports it.
	admin := "http://" + adminAddr
	// The admin listener needs its token (sent as a bearer header, as deferproxy status and Prometheus do).
	if code, _ := httpGet(t, admin+"/status"); code != http.StatusUnauthorized {
		t.Errorf("/status without the admin token: %d, want 401", code)
	}
	authGet := func(path string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin+path, nil)
		req.Header.Set("Authorization", "Bearer AdminTok_c0d")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, st := authGet("/status")
		if strings.Contains(st, `"last_error"`) || time.Now().After(deadline) {
			break
		}
	}
	if requests.Load() < 2 {
		t.Fatalf("the manifest source was asked %d times: the failure was not provoked", requests.Load())
	}
	for _, path := range []string{"/status", "/readyz", "/metrics", "/", "/healthz"} {
		code, text := authGet(path)
		if code != 200 && path != "/readyz" {
			t.Errorf("GET %s: %d", path, code)
		}
		leaks.saw("GET "+path, text)
	}
	for _, args := range [][]string{{"status", "--admin", adminAddr}, {"status", "--json", "--admin", adminAddr}} {
		stdout, stderr, err := run(t, ctx, args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
		}
		leaks.saw(strings.Join(args, " "), stdout+stderr)
	}
	conn.Close(ctx)
	stop()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	leaks.saw("serve's log", logs.String()+out.String())
	if !strings.Contains(logs.String(), `xxxxx`) {
		t.Errorf("the log shows no redacted value: was anything secret-bearing logged at all?\n%s", logs.String())
	}

	// Configuration errors, each naming the value (redacted) that is wrong.
	sqlFile := filepath.Join(t.TempDir(), "q.sql")
	if err := os.WriteFile(sqlFile, []byte("select 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"serve", "--upstream", `host=db password='KvPw x\' y' dbname=x`}, nil},
		{[]string{"serve", "--upstream", "postgres://u:BadUrlPw_1%zz@db/x"}, nil},
		{[]string{"serve", "--upstream", "postgres://u:BadUrlPw_1@db:port/x"}, nil},
		{[]string{"serve", "--upstream", "postgres://u:BadUrlPw_1@db/x?sslmode=sometimes"}, nil}, // names only the sslmode
		{[]string{"serve", "--upstream", "fabio:SnowPw_77@myorg-acct/ANALYTICS?warehouse=WH"}, nil},
		{[]string{"serve"}, map[string]string{"DEFERPROXY_CATALOG_DSN": `host=db password='KvPw x\' y'`}},
		{[]string{"serve"}, map[string]string{"DEFERPROXY_CATALOG_DSN": "postgres://u:BadUrlPw_1%zz@db/x"}},
		{[]string{"setup-notify", "--apply", "postgres://u:BadUrlPw_1@db:port/x"}, nil},
		{[]string{"rewrite", "--manifest", writeDemoManifest(t), "--dev-schema", "dbt_x", "--catalog-dsn", `host=db port=x password='KvPw x\' y'`, sqlFile}, nil},
	} {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		stdout, stderr, err := run(t, ctx, tt.args...)
		if err == nil {
			t.Errorf("%v: no error", tt.args)
			continue
		}
		if !strings.Contains(err.Error(), "xxxxx") && !strings.Contains(err.Error(), "sslmode") {
			t.Errorf("%v: the error does not show the value it is about (redacted): %v", tt.args, err)
		}
		leaks.saw(strings.Join(tt.args, " "), stdout+stderr+err.Error())
	}
	leaks.check(t)
}
