package main

import (
	"strings"
	"testing"
	"time"
)

// A run as `go test -json` writes it: a passing package with a pass, a skip and a failing subtest's parent; a
// package whose build failed; a package without tests.
const sample = `{"Action":"start","Package":"example/a"}
{"Action":"run","Package":"example/a","Test":"TestOK"}
{"Action":"output","Package":"example/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"example/a","Test":"TestOK","Elapsed":0}
{"Action":"run","Package":"example/a","Test":"TestNeedsPG"}
{"Action":"output","Package":"example/a","Test":"TestNeedsPG","Output":"=== RUN   TestNeedsPG\n"}
{"Action":"output","Package":"example/a","Test":"TestNeedsPG","Output":"    a_test.go:9: no PostgreSQL server binaries\n"}
{"Action":"output","Package":"example/a","Test":"TestNeedsPG","Output":"--- SKIP: TestNeedsPG (0.00s)\n"}
{"Action":"skip","Package":"example/a","Test":"TestNeedsPG","Elapsed":0}
{"Action":"output","Package":"example/a","Output":"ok  \texample/a\t0.01s\n"}
{"Action":"pass","Package":"example/a","Elapsed":0.01}
{"Action":"run","Package":"example/b","Test":"TestBroken"}
{"Action":"output","Package":"example/b","Test":"TestBroken","Output":"    b_test.go:3: want 2, got 3\n"}
{"Action":"fail","Package":"example/b","Test":"TestBroken","Elapsed":0}
{"Action":"fail","Package":"example/b","Elapsed":0.02}
{"ImportPath":"example/c","Action":"build-output","Output":"c.go:1: syntax error\n"}
{"ImportPath":"example/c","Action":"build-fail"}
{"Action":"skip","Package":"example/d","Elapsed":0}
`

func TestReport(t *testing.T) {
	var out strings.Builder
	r, err := readEvents(strings.NewReader(sample), &out)
	if err != nil {
		t.Fatal(err)
	}
	if r.passed != 1 || r.failed != 1 || len(r.skipped) != 1 || r.packages != 1 || len(r.failedPackages) != 2 {
		t.Fatalf("counts: %+v", r)
	}
	for _, w := range []string{"ok  \texample/a", "b_test.go:3: want 2, got 3", "c.go:1: syntax error"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "=== RUN   TestOK") {
		t.Errorf("output of a passing test printed:\n%s", out.String())
	}
	line := r.line(3*time.Second, true)
	for _, w := range []string{"example/a TestNeedsPG: a_test.go:9: no PostgreSQL server binaries", "a failure in CI",
		"3 packages in 3s", "tests: 1 passed, 1 failed, 1 skipped"} {
		if !strings.Contains(line, w) {
			t.Errorf("summary lacks %q:\n%s", w, line)
		}
	}
	if r.ok(false) {
		t.Error("a run with failures is ok")
	}
}

func TestReportSkipInCI(t *testing.T) {
	const run = `{"Action":"skip","Package":"p","Test":"TestX"}
{"Action":"pass","Package":"p"}
`
	r, err := readEvents(strings.NewReader(run), &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.ok(false) || r.ok(true) {
		t.Errorf("a skip must pass outside CI and fail in CI: ok(false)=%v ok(true)=%v", r.ok(false), r.ok(true))
	}
}

// A test binary that times out: the running test never gets a result, and its output (the panic) must be shown and
// counted as a failure.
func TestReportTimeout(t *testing.T) {
	const run = `{"Action":"run","Package":"p","Test":"TestSlow"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"panic: test timed out after 25m0s\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t1500.0s\n"}
{"Action":"fail","Package":"p","Elapsed":1500}
`
	var out strings.Builder
	r, err := readEvents(strings.NewReader(run), &out)
	if err != nil {
		t.Fatal(err)
	}
	if r.failed != 1 || !strings.Contains(out.String(), "panic: test timed out") || r.ok(false) {
		t.Fatalf("timeout: %+v\n%s", r, out.String())
	}
}
