package rewrite

import (
	"strings"
	"testing"
)

// sfEveryRead swaps every qualified read reference to schema ZZ_PROD, and, for references starting at an odd
// offset, to a name that needs quoting ("Odd""Name"), so quoting, lower-case bare writing and requalified
// qualifiers are all exercised.
type sfEveryRead struct{}

func (sfEveryRead) Resolve(ref Reference) ([]string, bool) {
	n := ref.Normalized
	if len(n) < 2 {
		return nil, false
	}
	out := append([]string(nil), n...)
	out[len(out)-2] = "ZZ_PROD"
	if ref.Start%2 == 1 {
		out[len(out)-1] = `Odd"Name`
	}
	return out, true
}

// FuzzSnowflakeRewrite: on any text read with the Snowflake dialect (the reader of every Snowflake statement,
// SPEC §11), rewriting every read reference never corrupts the statement: the bytes outside the swapped name spans —
// strings, comments, dbt's query comment, the trailing ';' — are the original's, the result reads back with the
// same statements, kinds, write targets (IDENTIFIER's included) and USE effects, and every replacement reads back as
// the name it was swapped for. Seeds: the Snowflake golden requests.
func FuzzSnowflakeRewrite(f *testing.F) {
	for _, p := range []string{"incremental", "run_view_table", "seed", "tricky"} {
		for _, r := range sfRequests(f, "testdata/snowflake/"+p+".sql") {
			f.Add(r)
		}
	}
	f.Add("select * from db..t, \"A\"\"b\".c.d // x\n; use schema s; describe table a.b; show columns in a.b")
	f.Fuzz(func(t *testing.T, sql string) {
		a := LexAnalyze(sql, Snowflake)
		for _, st := range a.Statements {
			for _, r := range st.Identified {
				if r.Start < st.Start || r.End > st.End || r.Start >= r.End || sql[r.Start] != '\'' ||
					len(r.Parts) == 0 || len(r.Parts) > 3 || strings.Contains(strings.Join(r.Normalized, ""), "'") {
					t.Fatalf("malformed IDENTIFIER name %+v in %q", r, sql)
				}
			}
		}
		res, err := Rewrite(sql, a, sfEveryRead{})
		if err != nil {
			t.Fatalf("rewrite: %v\nSQL: %q", err, sql)
		}
		if msg := checkSnowflakeRewrite(sql, a, res, sfEveryRead{}); msg != "" {
			t.Fatalf("%s\nSQL: %q\nout: %q", msg, sql, res.SQL)
		}
	})
}
