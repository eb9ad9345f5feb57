package rewrite

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and testdata/corpus_unparseable.txt")

// devToProd is the golden tests' resolver: dbt_fabio.<x> (any database, any case as stored) → analytics.<x>,
// keeping a 3-part name 3-part. Every other name is kept.
type devToProd struct{}

func (devToProd) Resolve(ref Reference) ([]string, bool) {
	n := ref.Normalized
	if len(n) < 2 || n[len(n)-2] != "dbt_fabio" {
		return nil, false
	}
	out := append([]string(nil), n...)
	out[len(out)-2] = "analytics"
	return out, true
}

// TestGolden analyses and rewrites each testdata/golden/*.sql and compares a readable report with the .golden
// file next to it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".sql"), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := goldenReport(t, string(in))
			gf := strings.TrimSuffix(f, ".sql") + ".golden"
			if *update {
				if err := os.WriteFile(gf, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gf)
			if err != nil {
				t.Fatalf("%v (run go test ./rewrite -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("report differs from %s (rerun with -update and review the diff):\n%s", gf, got)
			}
		})
	}
}

func goldenReport(t *testing.T, sql string) string {
	t.Helper()
	a, err := Analyze(sql)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Rewrite(sql, a, devToProd{})
	if err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	// The golden properties hold here too: output parses, writes unchanged, bytes outside edits identical.
	if msg, _ := checkRewrite(sql, devToProd{}); msg != "" {
		t.Errorf("property violated: %s", msg)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "parsed: %v", a.Parsed)
	if a.ParseError != "" {
		fmt.Fprintf(&b, " (%s)", a.ParseError)
	}
	b.WriteString("\n")
	for i, s := range a.Statements {
		fmt.Fprintf(&b, "statement %d [%d:%d] %s catalog=%v ddl=%v\n", i, s.Start, s.End, s.Kind, s.CatalogQuery, s.DDL)
		for _, r := range s.References {
			fmt.Fprintf(&b, "  %-5s %-40s parts=%s normalized=%s [%d:%d]\n", r.Role, sql[r.Start:r.End],
				showParts(r.Parts, r.Quoted), strings.Join(r.Normalized, "."), r.Start, r.End)
		}
		for _, r := range s.Schemas {
			fmt.Fprintf(&b, "  schema %-39s parts=%s normalized=%s [%d:%d]\n", sql[r.Start:r.End],
				showParts(r.Parts, r.Quoted), strings.Join(r.Normalized, "."), r.Start, r.End)
		}
	}
	b.WriteString("deferrals:\n")
	for _, d := range res.Deferrals {
		fmt.Fprintf(&b, "  %s -> %s\n", d.From, d.To)
	}
	for _, d := range res.Requalified {
		fmt.Fprintf(&b, "  (column qualifier) %s -> %s\n", d.From, d.To)
	}
	b.WriteString("rewritten:\n")
	b.WriteString(res.SQL)
	if !strings.HasSuffix(res.SQL, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

func showParts(parts []string, quoted []bool) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		if i < len(quoted) && quoted[i] {
			out[i] = "«" + p + "»"
		} else {
			out[i] = p
		}
	}
	return strings.Join(out, ".")
}
