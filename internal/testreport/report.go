package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent; build events carry ImportPath instead).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
	Elapsed    float64
}

// report is what readEvents counted.
type report struct {
	packages       int      // packages whose tests passed
	failedPackages []string // packages that failed (a test, the build, or the binary itself)
	passed, failed int
	skipped        []string // "pkg TestName: reason"
	nonJSON        int      // lines that were not events (an error printed by go itself)
}

// readEvents reads events from in and writes to out the package result lines, build errors and the output of
// failed tests.
func readEvents(in io.Reader, out io.Writer) (*report, error) {
	r := &report{}
	pending := map[string][]string{} // output per test (and per package), until its result is known
	running := map[string][]string{} // per package, the keys of its tests in the order they started
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			r.nonJSON++
			fmt.Fprintln(out, sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "build-fail":
			r.failedPackages = append(r.failedPackages, e.ImportPath+" (build)")
		case "run":
			running[e.Package] = append(running[e.Package], key)
		case "output":
			pending[key] = append(pending[key], e.Output)
		case "pass", "fail", "skip":
			lines := pending[key]
			delete(pending, key)
			if e.Test == "" { // the package's own result
				switch e.Action {
				case "pass":
					r.packages++
					fmt.Fprintf(out, "ok  \t%s\t%.1fs\n", e.Package, e.Elapsed)
				case "fail":
					// A test binary that panicked or timed out leaves tests without a result: they failed, and
					// their output (the panic, the goroutine dump) is what the person needs.
					r.failedPackages = append(r.failedPackages, e.Package)
					for _, k := range running[e.Package] {
						if l, ok := pending[k]; ok {
							r.failed++
							printLines(out, l)
							delete(pending, k)
						}
					}
					printLines(out, lines)
				default:
					fmt.Fprintf(out, "?   \t%s\t[no test files]\n", e.Package)
				}
				delete(running, e.Package)
				continue
			}
			switch e.Action {
			case "pass":
				r.passed++
			case "fail":
				r.failed++
				printLines(out, lines)
			case "skip":
				r.skipped = append(r.skipped, fmt.Sprintf("%s %s: %s", e.Package, e.Test, skipReason(lines)))
			}
		}
	}
	sort.Strings(r.skipped)
	return r, sc.Err()
}

func printLines(out io.Writer, lines []string) {
	for _, l := range lines {
		fmt.Fprint(out, l)
	}
}

// skipReason is the message of t.Skip: the last line a skipped test printed other than go test's own markers.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		s := strings.TrimSpace(lines[i])
		if s != "" && !strings.HasPrefix(s, "=== ") && !strings.HasPrefix(s, "--- ") {
			return s
		}
	}
	return "(no message)"
}

// ok reports whether the run passed: no failed package or test, no line that was not an event (a build error), and
// under failOnSkip no skipped test.
func (r *report) ok(failOnSkip bool) bool {
	return len(r.failedPackages) == 0 && r.failed == 0 && r.nonJSON == 0 && (!failOnSkip || len(r.skipped) == 0)
}

// line is the closing summary, in the "N passed, N failed, N skipped" form CI reads, preceded by the skipped tests.
func (r *report) line(took time.Duration, failOnSkip bool) string {
	var b strings.Builder
	if len(r.skipped) > 0 {
		what := "skipped"
		if failOnSkip {
			what = "skipped (a failure in CI: every test must run there)"
		}
		fmt.Fprintf(&b, "%d tests %s:\n", len(r.skipped), what)
		for _, s := range r.skipped {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	if len(r.failedPackages) > 0 {
		fmt.Fprintf(&b, "failed packages: %s\n", strings.Join(r.failedPackages, ", "))
	}
	fmt.Fprintf(&b, "%d packages in %s\ntests: %d passed, %d failed, %d skipped", r.packages+len(r.failedPackages),
		took.Round(time.Second), r.passed, r.failed, len(r.skipped))
	return b.String()
}
