package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Target names of the generated profiles.yml.
const (
	targetProd      = "prod"       // schema analytics, direct
	targetDevNative = "dev_native" // schema dbt_dev, direct (used with --defer --state)
	targetDevProxy  = "dev_proxy"  // schema dbt_dev, through the proxy (no --defer)
)

// writeProfiles writes profiles.yml for profile name with the three targets. dev_proxy's port comes from
// DEFERPROXY_E2E_PROXY_PORT, set per run to the port of a freshly started proxy.
func writeProfiles(dir, profile, host string, port int, database string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  target: %s\n  outputs:\n", profile, targetProd)
	target := func(name string, port string, schema string) {
		fmt.Fprintf(&b, "    %s:\n      type: postgres\n      host: %s\n      port: %s\n      user: postgres\n"+
			"      password: unused\n      dbname: %s\n      schema: %s\n      threads: 4\n",
			name, host, port, database, schema)
	}
	target(targetProd, fmt.Sprint(port), prodSchema)
	target(targetDevNative, fmt.Sprint(port), devSchema)
	target(targetDevProxy, `"{{ env_var('DEFERPROXY_E2E_PROXY_PORT', '1') | as_number }}"`, devSchema)
	return os.WriteFile(filepath.Join(dir, "profiles.yml"), []byte(b.String()), 0o644)
}

// dbtRun is the outcome of one dbt invocation.
type dbtRun struct {
	Args     []string
	ExitCode int
	Output   string
	Elapsed  time.Duration
	Results  map[string]string // run_results.json: unique_id -> status[/failures]
}

// dbtInvoker runs dbt for one project copy.
type dbtInvoker struct {
	bin         string
	dir         string   // project directory (cwd)
	profilesDir string   // DBT_PROFILES_DIR
	env         []string // extra environment (KEY=VALUE)
}

// run executes `dbt <args>` with extra env (e.g. PGOPTIONS) and returns the outcome. targetPath receives
// run_results.json. It fails the test only when dbt could not be started at all.
func (d *dbtInvoker) run(t testing.TB, targetPath string, extraEnv []string, args ...string) dbtRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logPath := filepath.Join(targetPath, "logs")
	full := append([]string{}, args...)
	if args[0] != "deps" {
		full = append(full, "--target-path", targetPath)
	}
	full = append(full, "--log-path", logPath)
	cmd := exec.CommandContext(ctx, d.bin, full...)
	cmd.Dir = d.dir
	env := []string{}
	for _, kv := range os.Environ() {
		// Our runs choose their own libpq options and dbt settings.
		if strings.HasPrefix(kv, "PGOPTIONS=") || strings.HasPrefix(kv, "DBT_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"PATH="+filepath.Dir(d.bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DBT_SEND_ANONYMOUS_USAGE_STATS=false",
		"DBT_PROFILES_DIR="+d.profilesDir,
		"DBT_USE_COLORS=false",
		"DBT_PRINTER_WIDTH=120",
	)
	env = append(env, d.env...)
	env = append(env, extraEnv...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	r := dbtRun{Args: full, Output: out.String(), Elapsed: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	default:
		t.Fatalf("start dbt %s: %v", strings.Join(full, " "), err)
	}
	if args[0] != "deps" && args[0] != "show" {
		r.Results = readRunResults(t, filepath.Join(targetPath, "run_results.json"))
	}
	return r
}

// mustRun is run that fails the test when dbt exits non-zero.
func (d *dbtInvoker) mustRun(t testing.TB, targetPath string, extraEnv []string, args ...string) dbtRun {
	t.Helper()
	r := d.run(t, targetPath, extraEnv, args...)
	if r.ExitCode != 0 {
		t.Fatalf("dbt %s: exit %d\n%s", strings.Join(r.Args, " "), r.ExitCode, tail(r.Output, 6000))
	}
	return r
}

// readRunResults maps unique_id -> "status" (plus "/failures=N" for tests) from run_results.json. A missing file
// yields nil: dbt failed before running anything.
func readRunResults(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc struct {
		Results []struct {
			UniqueID string `json:"unique_id"`
			Status   string `json:"status"`
			Failures *int   `json:"failures"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	m := make(map[string]string, len(doc.Results))
	for _, r := range doc.Results {
		v := r.Status
		if r.Failures != nil && strings.HasPrefix(r.UniqueID, "test.") {
			v = fmt.Sprintf("%s/failures=%d", v, *r.Failures)
		}
		m[r.UniqueID] = v
	}
	return m
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// diffMaps describes the differences between two string maps, or "" when equal.
func diffMaps(aName string, a map[string]string, bName string, b map[string]string) string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out strings.Builder
	for _, k := range sorted {
		av, aok := a[k]
		bv, bok := b[k]
		switch {
		case !aok:
			fmt.Fprintf(&out, "  %s: only %s: %s\n", k, bName, bv)
		case !bok:
			fmt.Fprintf(&out, "  %s: only %s: %s\n", k, aName, av)
		case av != bv:
			fmt.Fprintf(&out, "  %s:\n    %s: %s\n    %s: %s\n", k, aName, av, bName, bv)
		}
	}
	return out.String()
}
