package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// TestExecWithDbt runs real dbt through `deferproxy exec` against the proxy on the bundled example (the corpus
// project jaffle_shop, whose production manifest the demo ships): dbt builds customers in the dev schema dbt_demo,
// where only stg_customers exists, so stg_orders and stg_payments are read from production. The summary names them
// and the production run with its link; the exit status is dbt's.
func TestExecWithDbt(t *testing.T) {
	venv := pgtest.Venv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	inst := startDemoInstance(t, ctx)

	// The corpus project, copied (dbt writes target/ and logs/ into it), with a dev profile pointing at the proxy.
	proj := filepath.Join(t.TempDir(), "jaffle_shop")
	if err := os.CopyFS(proj, os.DirFS(filepath.Join("..", "..", "testdata", "corpus", "dbt", "jaffle_shop"))); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(inst.proxyAddr())
	profile := "jaffle_shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: " + host + "\n      port: " + port +
		"\n      user: postgres\n      password: ''\n      dbname: " + demoDatabase + "\n      schema: " + demoDevSchema + "\n      threads: 1\n"
	if err := os.WriteFile(filepath.Join(proj, "profiles.yml"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	dbt := filepath.Join(venv, "bin", "dbt")
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	err := execute(ctx, root, []string{"exec", "--admin", inst.adminAddr(), "--project-dir", proj, "--", dbt, "run", "-s", "customers",
		"--project-dir", proj, "--profiles-dir", proj})
	if err != nil {
		t.Fatalf("deferproxy exec -- dbt run: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	summary := errb.String()
	t.Logf("summary:\n%s", summary)
	for _, w := range []string{"relations deferred to production", "dbt_demo.stg_orders → analytics.stg_orders",
		"dbt_demo.stg_payments → analytics.stg_payments", "production run jaffle_shop cf60827c-453f-4929-9179-15db56c9c697",
		"https://ci.example/runs/cf60827c-453f-4929-9179-15db56c9c697",
		"the dev manifest " + filepath.Join(proj, "target", "manifest.json") + " went to the proxy for these sessions"} {
		if !strings.Contains(summary, w) {
			t.Errorf("summary lacks %q:\n%s", w, summary)
		}
	}
	if strings.Contains(summary, "dbt_demo.stg_customers →") {
		t.Errorf("stg_customers exists in dev and must not be deferred:\n%s", summary)
	}
	if !strings.Contains(out.String(), "Completed successfully") {
		t.Errorf("dbt's own output is not passed through:\n%s", out.String())
	}

	// The command's exit status is deferproxy's; a session that never reached the proxy is said so.
	root = newRootCmd()
	errb.Reset()
	root.SetOut(&out)
	root.SetErr(&errb)
	err = execute(ctx, root, []string{"exec", "--admin", inst.adminAddr(), "--", "sh", "-c", "echo $PGOPTIONS >&2; exit 3"})
	if exitCode(err) != 3 || !strings.Contains(errb.String(), "-c deferproxy.tag=") ||
		!strings.Contains(errb.String(), "no session of this command went through the proxy") {
		t.Fatalf("exit status %d (%v), stderr:\n%s", exitCode(err), err, errb.String())
	}
}

// startDemoInstance runs what serve runs on the bundled example's database (created on the shared cluster and
// dropped when the test ends, whichever test of this package ran before), with a run-URL template; the bundled
// manifest's date does not matter.
func startDemoInstance(t *testing.T, ctx context.Context, opts ...func(*Config)) *instance {
	t.Helper()
	cluster := pgtest.Shared(t)
	dropDemo := func() { cluster.Exec(t, "postgres", "DROP DATABASE IF EXISTS "+demoDatabase+" WITH (FORCE)") }
	dropDemo()
	t.Cleanup(dropDemo)
	_, cleanup, err := loadDemo(ctx, cluster.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	cfg := testConfig(t, cluster.URL(pgtest.SuperUser, "", demoDatabase))
	cfg.CatalogDSN = cluster.URL(pgtest.SuperUser, "", demoDatabase)
	cfg.ManifestRunURL = "https://ci.example/runs/{invocation_id}"
	cfg.StaleAfter = 100 * 365 * 24 * time.Hour
	for _, o := range opts {
		o(&cfg)
	}
	inst, err := start(ctx, cfg, newTestLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.shutdown(time.Second) })
	return inst
}
