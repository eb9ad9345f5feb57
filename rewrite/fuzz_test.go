package rewrite

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// addGoldenSeeds seeds a fuzz target with the golden inputs (the kept corpus under testdata/fuzz adds regression
// statements of every shape).
func addGoldenSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.sql"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
}

// FuzzAnalyze: Analyze never panics and its result is well-formed: spans inside the text, in order, names that
// read back from their span.
func FuzzAnalyze(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, sql string) {
		a, err := Analyze(sql)
		if err != nil {
			return
		}
		prevStmtEnd := 0
		for si, s := range a.Statements {
			if s.Start < 0 || s.End > len(sql) || s.Start > s.End {
				t.Fatalf("statement %d span [%d:%d] outside %d bytes", si, s.Start, s.End, len(sql))
			}
			if a.Parsed && s.Start < prevStmtEnd {
				t.Fatalf("statement %d starts at %d before the previous end %d", si, s.Start, prevStmtEnd)
			}
			prevStmtEnd = s.End
			for _, r := range s.Schemas {
				if r.Start < 0 || r.End > len(sql) || r.Start > r.End || len(r.Parts) != 1 || r.Role != Write {
					t.Fatalf("malformed schema reference %+v", r)
				}
			}
			prev := -1
			for _, r := range s.References {
				if r.Start < 0 || r.End > len(sql) || r.Start >= r.End {
					t.Fatalf("reference %+v span outside the text", r)
				}
				if r.Start < prev {
					t.Fatalf("references out of order at %d", r.Start)
				}
				prev = r.Start
				if len(r.Parts) == 0 || len(r.Parts) > 3 || len(r.Quoted) != len(r.Parts) || len(r.Normalized) != len(r.Parts) {
					t.Fatalf("malformed reference %+v", r)
				}
				if !a.Parsed {
					continue
				}
				if r.Role == Read && (r.Start < s.Start || r.End > s.End) {
					t.Fatalf("read reference [%d:%d] outside its statement [%d:%d]", r.Start, r.End, s.Start, s.End)
				}
				if r.Role == Read {
					sn, ok := nameAt(sql, r.Start, len(r.Parts))
					if !ok || sn.end != r.End || !sn.matches(r.Normalized) {
						t.Fatalf("read reference %+v does not read back from %q", r, sql[r.Start:r.End])
					}
				}
			}
		}
	})
}

// FuzzRewrite: rewriting every read reference to schema zz_prod keeps properties 1–5 of issue 3 (output parses,
// same tree but the swapped schemas, write targets unchanged, bytes outside the edits unchanged, no panic).
func FuzzRewrite(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, sql string) {
		if msg, _ := checkRewrite(sql, zzProd{}); msg != "" {
			t.Fatal(msg)
		}
	})
}

// FuzzShape: for any text pg_query parses, a variant with other literal values of the same class gets from the
// cache's literal shape the analysis a parse of the variant gives (when the grammar accepts the variant), and a
// text that shares a shape with no parsed text is parsed, never guessed.
func FuzzShape(f *testing.F) {
	addGoldenSeeds(f)
	f.Add("select * from a.b where x = 'it''s' and y = 12 and z = 1.5e3")
	f.Fuzz(func(t *testing.T, sql string) {
		a, err := Analyze(sql)
		if err != nil || !a.Parsed {
			return
		}
		_, lits, ok := literalShape(sql)
		if !ok {
			return
		}
		variant := varyLiterals(sql, lits)
		c := NewCache(4)
		if _, err := c.Analyze(sql); err != nil {
			t.Fatal(err)
		}
		got, err := c.Analyze(variant)
		if err != nil {
			t.Fatal(err)
		}
		if c.Stats().ShapeHits == 0 {
			return
		}
		if _, perr := pg_query.Parse(variant); perr != nil {
			return // rejected for a value: the documented limit of shapes
		}
		want, err := Analyze(variant)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("shape analysis differs from a parse\nfirst:   %q\nvariant: %q\nshape: %+v\nparse: %+v", sql, variant, got.Statements, want.Statements)
		}
	})
}
