//go:build conformance

package clientsuite

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// TestPsycopgSuite runs psycopg 3's own test suite (pytest, from its repository: PSYCOPG_TESTS is a directory holding
// its tests/ and tools/ at the tag of the installed version; PSYCOPG_PYTHON the interpreter of a venv with psycopg,
// psycopg_pool and the test requirements — `make conformance` prepares both) directly and through deferproxy with the
// defer engine on, and fails on any test that passes directly but not through the proxy. It is built only with
// -tags conformance: the suite takes minutes per run and needs psycopg's repository, which no package registry
// carries.
func TestPsycopgSuite(t *testing.T) {
	tests, python := os.Getenv("PSYCOPG_TESTS"), os.Getenv("PSYCOPG_PYTHON")
	if tests == "" || python == "" {
		t.Fatal("PSYCOPG_TESTS and PSYCOPG_PYTHON must be set (make conformance sets them)")
	}
	c, err := pgtest.Start(context.Background(), pgtest.Options{})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	c.Exec(t, "postgres", "create database psycopg_test")
	c.Exec(t, "psycopg_test", "create extension hstore")
	proxyAddr := startDeferProxy(t, c)
	dsn := func(addr string) string {
		host, port, _ := net.SplitHostPort(addr)
		return fmt.Sprintf("host=%s port=%s user=%s dbname=psycopg_test", host, port, pgtest.SuperUser)
	}
	direct := runPytest(t, "direct", tests, python, dsn(c.Addr()))
	proxied := runPytest(t, "through deferproxy", tests, python, dsn(proxyAddr))
	t.Logf("psycopg suite, PostgreSQL %d:\n\n| run | pass | fail | skip |\n|---|---:|---:|---:|\n"+
		"| direct | %d | %d | %d |\n| through deferproxy, defer engine on | %d | %d | %d |\n", c.Major,
		direct.count("pass"), direct.count("fail"), direct.count("skip"),
		proxied.count("pass"), proxied.count("fail"), proxied.count("skip"))
	for _, k := range direct.keys("fail") {
		t.Logf("fails directly too: %s", k)
	}
	// As with pgx: each proxy-only failure is rerun once through the proxy (many of psycopg's tests are marked
	// "timing": they assert delays of 0.1–0.2 s and fail now and then on a loaded machine, directly too).
	diff := proxyOnly(direct, proxied)
	if len(diff) > 0 {
		var ids []string
		for _, k := range diff {
			ids = append(ids, nodeID(tests, k))
		}
		rerun := runPytest(t, "rerun through deferproxy", tests, python, dsn(proxyAddr), ids...)
		for _, k := range diff {
			if rerun.results[k] == "pass" {
				t.Logf("passed directly, %s through the proxy, passed on a rerun through the proxy: %s", proxied.results[k], k)
				continue
			}
			t.Errorf("passes directly, not through deferproxy (%s, then %s on a rerun): %s\n%s", proxied.results[k],
				orNone(rerun.results[k]), k, tail(proxied.output[k], 3000))
		}
	}
	if proxied.count("pass") < direct.count("pass") {
		t.Errorf("through the proxy %d tests pass, directly %d", proxied.count("pass"), direct.count("pass"))
	}
}

// runPytest runs psycopg's suite against dsn and reads its JUnit XML report. Left out, as in issue 8's
// measurement: the typing tests (mypy), the leak tests and the CockroachDB ones; and the free-threading tests, meant
// for a free-threaded Python: on this Python one of them crashed pytest itself (a segfault in libpq, directly).
// Given node IDs, only those run.
func runPytest(t *testing.T, label, dir, python, dsn string, ids ...string) *suiteRun {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.xml")
	// --cache-clear: psycopg's conftest refuses to run any test after a run that crashed (it keeps a flag in pytest's
	// cache).
	args := []string{"-m", "pytest", "-p", "no:randomly", "-q", "--no-header", "--cache-clear", "--test-dsn", dsn, "--junitxml", report}
	if len(ids) > 0 {
		args = append(args, ids...)
	} else {
		args = append(args, "-m", "not crdb", "--ignore", "tests/test_typing.py", "--ignore", "tests/crdb",
			"--ignore", "tests/test_free_threading.py", "-k", "not leak", "tests")
	}
	cmd := exec.Command(python, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	b, rerr := os.ReadFile(report)
	if rerr != nil {
		t.Fatalf("%s: pytest wrote no report (%v): %v\n%s", label, err, rerr, tail(string(out), 4000))
	}
	var suites struct {
		Suites []struct {
			Cases []struct {
				Class   string    `xml:"classname,attr"`
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct{} `xml:"skipped"`
				Text    string    `xml:",innerxml"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("%s: read pytest's report: %v", label, err)
	}
	run := &suiteRun{results: map[string]string{}, output: map[string]string{}}
	for _, s := range suites.Suites {
		for _, tc := range s.Cases {
			k := tc.Class + " " + tc.Name
			switch {
			case tc.Failure != nil, tc.Error != nil:
				run.results[k] = "fail"
				run.output[k] = tc.Text
			case tc.Skipped != nil:
				run.results[k] = "skip"
			default:
				run.results[k] = "pass"
			}
		}
	}
	t.Logf("%s: pytest: %d pass, %d fail, %d skip in %s", label, run.count("pass"), run.count("fail"), run.count("skip"),
		time.Since(start).Round(time.Second))
	return run
}

// nodeID turns a JUnit "classname name" key back into a pytest node ID: tests.pool.test_pool test_x[a] is
// tests/pool/test_pool.py::test_x[a], and a class's test tests.test_m.TestC test_y is tests/test_m.py::TestC::test_y.
func nodeID(dir, key string) string {
	class, name, _ := strings.Cut(key, " ")
	parts := strings.Split(class, ".")
	for i := len(parts); i > 0; i-- {
		file := filepath.Join(parts[:i]...) + ".py"
		if _, err := os.Stat(filepath.Join(dir, file)); err == nil {
			return strings.Join(append([]string{file}, append(parts[i:], name)...), "::")
		}
	}
	return strings.ReplaceAll(class, ".", "/") + ".py::" + name
}
