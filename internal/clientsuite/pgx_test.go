package clientsuite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
)

const pgxModule = "github.com/jackc/pgx/v5"

// pgxRoles are the pg_hba.conf lines of pgx's testsetup/pg_hba.conf for TCP connections: each role logs in with the
// method its connection variable tests (testsetup/postgresql_setup.sql creates the roles, md5 for pgx_md5).
var pgxRoles = []string{
	"host all pgx_md5 127.0.0.1/32 md5",
	"host all pgx_scram 127.0.0.1/32 scram-sha-256",
	"host all pgx_pw 127.0.0.1/32 password",
}

// pgxEnv is every connection variable pgx's tests read for a server without TLS client certificates, as pgx's own
// scripts/lib/test_targets.rb sets them, pointed at addr (the server or the proxy).
func pgxEnv(addr string) []string {
	host, port, _ := net.SplitHostPort(addr)
	conn := func(user string) string {
		return fmt.Sprintf("host=%s port=%s user=%s password=secret dbname=pgx_test", host, port, user)
	}
	return []string{
		"PGX_TEST_DATABASE=" + conn("pgx_md5"),
		"PGX_TEST_TCP_CONN_STRING=" + conn("pgx_md5"),
		"PGX_TEST_MD5_PASSWORD_CONN_STRING=" + conn("pgx_md5"),
		"PGX_TEST_PLAIN_PASSWORD_CONN_STRING=" + conn("pgx_pw"),
		"PGX_TEST_SCRAM_PASSWORD_CONN_STRING=" + conn("pgx_scram") + " channel_binding=disable",
	}
}

// TestPgxSuite runs pgx's test suite directly and through deferproxy with the defer engine on, and fails on any test
// that passes directly but not through the proxy.
func TestPgxSuite(t *testing.T) {
	if testing.Short() && !pgtest.InCI() {
		t.Skip("runs pgx's whole test suite twice; not with -short")
	}
	ctx := context.Background()
	suite := copyModule(t, pgxModule)

	c, err := pgtest.Start(ctx, pgtest.Options{HBA: pgxRoles})
	if err != nil {
		if err == pgtest.ErrNoPostgres && !pgtest.InCI() {
			t.Skipf("pgtest: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	c.Exec(t, "postgres", "create database pgx_test")
	psql := exec.Command(filepath.Join(c.BinDir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", c.Host,
		"-p", fmt.Sprint(c.Port), "-U", pgtest.SuperUser, "-d", "pgx_test", "-f", filepath.Join(suite, "testsetup", "postgresql_setup.sql"))
	psql.Env = cleanEnv()
	if out, err := psql.CombinedOutput(); err != nil {
		t.Fatalf("pgx's testsetup/postgresql_setup.sql: %v\n%s", err, out)
	}

	proxyAddr := startDeferProxy(t, c)

	direct := runGoTests(t, "direct", suite, pgxEnv(c.Addr()), "./...")
	proxied := runGoTests(t, "through deferproxy", suite, pgxEnv(proxyAddr), "./...")

	t.Logf("pgx %s suite, PostgreSQL %d (every test and subtest):\n\n| run | pass | fail | skip |\n|---|---:|---:|---:|\n"+
		"| direct | %d | %d | %d |\n| through deferproxy, defer engine on | %d | %d | %d |\n",
		moduleVersion(t, pgxModule), c.Major, direct.count("pass"), direct.count("fail"), direct.count("skip"),
		proxied.count("pass"), proxied.count("fail"), proxied.count("skip"))
	for _, k := range direct.keys("fail") {
		t.Logf("fails directly too (the environment, not the proxy): %s", k)
	}

	// Tests that passed directly and not through the proxy. A failure is rerun once through the proxy, so that a
	// test which fails now and then whatever the server (a timing assumption of the suite on a loaded machine) does
	// not fail the build; one that fails again is the proxy's.
	for _, pkg := range direct.brokenPackages() {
		t.Errorf("package %s fails directly outside any test (the suite's environment is broken):\n%s", pkg,
			tail(direct.output[pkg+" (package)"], 6000))
	}
	for _, pkg := range proxied.brokenPackages() {
		if !slices.Contains(direct.brokenPackages(), pkg) {
			t.Errorf("package %s fails through deferproxy outside any test:\n%s", pkg, tail(proxied.output[pkg+" (package)"], 6000))
		}
	}
	// Each proxy-only failure's top-level test is rerun once through the proxy, so that a test which fails now and
	// then whatever the server (a timing assumption of the suite on a loaded machine) does not fail the build; one
	// that fails again is the proxy's.
	diff := proxyOnly(direct, proxied)
	byPkg := map[string][]string{} // package → top-level tests to rerun
	for _, k := range diff {
		pkg, test, _ := strings.Cut(k, " ")
		top, _, _ := strings.Cut(test, "/")
		byPkg[pkg] = appendUnique(byPkg[pkg], top)
	}
	reruns := map[string]*suiteRun{}
	for pkg, tests := range byPkg {
		reruns[pkg] = runGoTests(t, "rerun through deferproxy", suite, pgxEnv(proxyAddr), pkg, "-run", "^("+strings.Join(tests, "|")+")$")
	}
	passes := proxied.count("pass") // through the proxy, counting a test that passed on its rerun
	for _, k := range diff {
		pkg, _, _ := strings.Cut(k, " ")
		rerun := reruns[pkg]
		if rerun.results[k] == "pass" {
			t.Logf("passed directly, %s through the proxy, passed on a rerun through the proxy: %s", proxied.results[k], k)
			passes++
			continue
		}
		t.Errorf("passes directly, not through deferproxy (%s, then %s on a rerun): %s\n%s", orNone(proxied.results[k]),
			orNone(rerun.results[k]), k, tail(proxied.output[k]+rerun.output[k], 6000))
	}
	if passes < direct.count("pass") {
		t.Errorf("through the proxy %d tests pass (reruns included), directly %d", passes, direct.count("pass"))
	}
}

// proxyOnly lists the tests (and subtests) that passed directly and failed or skipped through the proxy, and those
// that failed through the proxy with no direct counterpart. A subtest whose name holds a temporary path or a random
// value has another name in each run: one missing from the proxied run is no failure of its own (the pass counts
// still compare).
func proxyOnly(direct, proxied *suiteRun) []string {
	var out []string
	for _, k := range direct.keys("pass") {
		if r, ok := proxied.results[k]; ok && r != "pass" {
			out = append(out, k)
		}
	}
	for _, k := range proxied.keys("fail") {
		if _, ok := direct.results[k]; !ok && !strings.HasSuffix(k, " (package)") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// startDeferProxy starts deferproxy in-process in front of c with the defer engine on (testdata/manifest.json as
// production, dev schemas dbt_<user>) and returns its address; it stops at cleanup.
func startDeferProxy(t *testing.T, c *pgtest.Cluster) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// Warnings and errors only: pgx's suite sends malformed and cut-off sessions on purpose, each logged at info.
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	manifest, err := filepath.Abs(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := deferral.New(ctx, deferral.Config{
		Manifest:   manifest,
		DevSchema:  "dbt_{user}",
		CatalogDSN: c.URL(pgtest.SuperUser, "", "pgx_test"),
		Logger:     logger,
	})
	if err != nil {
		cancel()
		t.Fatalf("start the defer engine: %v", err)
	}
	upstream := fmt.Sprintf("postgres://%s/postgres?sslmode=disable", c.Addr())
	srv, err := proxy.New(proxy.Config{Upstream: upstream, Logger: logger, Hook: proxy.EngineHook(eng)})
	if err != nil {
		cancel()
		t.Fatalf("create the proxy: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Logf("proxy shutdown: %v", err)
		}
		cancel()
		<-served
		if err := eng.Close(); err != nil {
			t.Logf("engine close: %v", err)
		}
	})
	return ln.Addr().String()
}

// suiteRun is the outcome of one `go test -json` run: the last action (pass, fail, skip) of every test and subtest,
// by "package test", and each test's output.
type suiteRun struct {
	results map[string]string
	output  map[string]string
}

// brokenPackages are the packages that failed while none of their tests did: a build failure, a panic outside a
// test, a timeout.
func (r *suiteRun) brokenPackages() []string {
	var out []string
	for _, k := range r.keys("fail") {
		pkg, test, _ := strings.Cut(k, " ")
		if test != "(package)" {
			continue
		}
		failed := false
		for _, f := range r.keys("fail") {
			if strings.HasPrefix(f, pkg+" ") && f != k {
				failed = true
			}
		}
		if !failed {
			out = append(out, pkg)
		}
	}
	return out
}

func (r *suiteRun) count(action string) int {
	return len(r.keys(action))
}

func (r *suiteRun) keys(action string) []string {
	var ks []string
	for k, a := range r.results {
		if a == action {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// runGoTests runs `go test -json [flags] pkg` in dir with env added and collects every test's result. A build
// failure or a run with no result at all fails the test.
func runGoTests(t *testing.T, label, dir string, env []string, pkg string, flags ...string) *suiteRun {
	t.Helper()
	goArgs := append(append([]string{"test", "-count=1", "-json", "-timeout", "15m"}, flags...), pkg)
	cmd := exec.Command("go", goArgs...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("go test: %v", err)
	}
	run := &suiteRun{results: map[string]string{}, output: map[string]string{}}
	var outputs = map[string]*strings.Builder{}
	var buildErrors strings.Builder
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Action, Package, Test, Output string
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			buildErrors.WriteString(sc.Text() + "\n") // the build's own output is not JSON
			continue
		}
		if ev.Action == "build-output" {
			buildErrors.WriteString(ev.Output)
		}
		k := ev.Package + " " + ev.Test
		if ev.Test == "" {
			k = ev.Package + " (package)" // the package's own output and result: a panic, a timeout, a TestMain error
		}
		switch ev.Action {
		case "pass", "skip":
			if ev.Test != "" {
				run.results[k] = ev.Action
			}
		case "fail":
			run.results[k] = ev.Action
		case "output":
			b := outputs[k]
			if b == nil {
				b = &strings.Builder{}
				outputs[k] = b
			}
			if b.Len() < 64<<10 {
				b.WriteString(ev.Output)
			}
		}
	}
	waitErr := cmd.Wait()
	for k, b := range outputs {
		run.output[k] = b.String()
	}
	t.Logf("%s: go %s: %d pass, %d fail, %d skip in %s", label, strings.Join(goArgs, " "), run.count("pass"),
		run.count("fail"), run.count("skip"), time.Since(start).Round(time.Second))
	if len(run.results) == 0 || buildErrors.Len() > 0 {
		t.Fatalf("go test in %s: no results or a build failure (%v):\n%s\n%s", dir, waitErr, tail(buildErrors.String(), 4000), tail(stderr.String(), 4000))
	}
	return run
}

// copyModule copies the module (the version this repository's go.mod requires) from the module cache to a writable
// temporary directory, downloading it first when it is not there.
func copyModule(t *testing.T, module string) string {
	t.Helper()
	src := moduleDir(t, module)
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy %s to a temporary directory: %v", module, err)
	}
	return dst
}

// moduleDir is where the module's required version lies in the module cache.
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	dir := goList(t, module, "{{.Dir}}")
	if dir == "" {
		cmd := exec.Command("go", "mod", "download", module)
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go mod download %s: %v\n%s", module, err, out)
		}
		dir = goList(t, module, "{{.Dir}}")
	}
	if dir == "" {
		t.Fatalf("%s: not in the module cache after go mod download", module)
	}
	return dir
}

func moduleVersion(t *testing.T, module string) string { return goList(t, module, "{{.Version}}") }

func goList(t *testing.T, module, format string) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", format, module)
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", module, err)
	}
	return strings.TrimSpace(string(out))
}

// cleanEnv is this process's environment without PG* variables (a developer's PGHOST must not redirect the suite)
// and with the module's own go.mod in charge (no workspace, no toolchain download).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "GOWORK=") || strings.HasPrefix(kv, "GOFLAGS=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOWORK=off", "GOTOOLCHAIN=local")
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func orNone(s string) string {
	if s == "" {
		return "no result"
	}
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestProxyOnly: the comparison finds what failed or skipped only through the proxy, and nothing else.
func TestProxyOnly(t *testing.T) {
	direct := &suiteRun{results: map[string]string{
		"p TestA": "pass", "p TestA/one": "pass", "p TestB": "fail", "p TestC": "pass", "p TestD": "pass",
		"p TestE": "pass", "p TestE/tmp123": "pass", "p TestF": "skip",
	}}
	proxied := &suiteRun{results: map[string]string{
		"p TestA": "fail", "p TestA/one": "fail", "p TestB": "fail", "p TestC": "skip", "p TestD": "pass",
		"p TestE": "pass", "p TestE/tmp456": "pass", "p TestF": "skip", "p TestG": "fail", "p (package)": "fail",
	}}
	got := proxyOnly(direct, proxied)
	want := []string{"p TestA", "p TestA/one", "p TestC", "p TestG"}
	if !slices.Equal(got, want) {
		t.Fatalf("proxyOnly = %v, want %v", got, want)
	}
	if b := proxied.brokenPackages(); len(b) != 0 {
		t.Fatalf("a package with failing tests counted as broken: %v", b)
	}
	if b := (&suiteRun{results: map[string]string{"q (package)": "fail", "q TestX": "pass"}}).brokenPackages(); !slices.Equal(b, []string{"q"}) {
		t.Fatalf("brokenPackages = %v, want [q]", b)
	}
}
