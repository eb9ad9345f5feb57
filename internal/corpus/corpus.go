// Package corpus locates the third-party test corpus (PostgreSQL regression scripts and dbt projects) that the
// repository carries in testdata/corpus, and reads the regression scripts the way psql would feed them to the
// server. It is for tests only. testdata/corpus/README.md says what each part is, where it came from and its licence.
package corpus

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Dir returns the corpus directory: testdata/corpus in the repository, or $DEFERPROXY_CORPUS when set (to try the
// tests on another copy). The corpus is part of the repository, so a missing one fails the test everywhere.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DEFERPROXY_CORPUS")
	from := "DEFERPROXY_CORPUS"
	if dir == "" {
		dir, from = filepath.Join(RepoRoot(), "testdata", "corpus"), "the repository"
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Fatalf("test corpus not found at %s (from %s): the repository carries it in testdata/corpus: %v", dir, from, err)
	}
	return dir
}

// Path returns a file or directory of the corpus by its slash-separated path below the corpus root, failing the test
// when it is missing.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus file %s is missing (testdata/corpus/SOURCES.md lists what the corpus holds): %v", p, err)
	}
	return p
}

// RepoRoot is the repository root (the directory holding go.mod), found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Script is one regression script with what psql would not send to the server removed.
type Script struct {
	Name string // path relative to pg-regress/, e.g. "postgres_regress/select.sql"
	SQL  string
}

var (
	// psql ends a query with \g, \gset, \gexec… instead of ';'.
	psqlGoRe = regexp.MustCompile(`\s\\(g|gset|gexec|gx|gdesc|crosstabview|bind|bind_named|parse|sendpipeline)\b.*$`)
	copyInRe = regexp.MustCompile(`(?i)\bfrom\s+stdin\b.*;\s*$`)
)

// RegressScripts reads every .sql file under pg-regress/, in name order: psql meta-command lines are dropped, a
// trailing \g… ends the query like ';', and the data after COPY … FROM stdin up to \. is skipped.
func RegressScripts(t testing.TB) []Script {
	t.Helper()
	root := filepath.Join(Dir(t), "pg-regress")
	files, err := filepath.Glob(filepath.Join(root, "*", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .sql files under %s: %v", root, err)
	}
	sort.Strings(files)
	out := make([]Script, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		out = append(out, Script{Name: filepath.ToSlash(rel), SQL: psqlInput(string(b))})
	}
	return out
}

// psqlInput removes from a psql script what psql itself consumes.
func psqlInput(script string) string {
	var text strings.Builder
	inCopy := false
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if inCopy {
			if line == `\.` {
				inCopy = false
			}
			continue
		}
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), `\`) {
			continue
		}
		line = psqlGoRe.ReplaceAllString(line, ";")
		if copyInRe.MatchString(line) {
			inCopy = true
		}
		text.WriteString(line)
		text.WriteByte('\n')
	}
	return text.String()
}
