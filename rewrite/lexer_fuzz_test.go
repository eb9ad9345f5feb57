package rewrite

import (
	"fmt"
	"testing"
)

// FuzzLexAnalyze checks, on any text and in both dialects: no panic; statements and references in bounds, in
// order and not overlapping; each reference's span re-lexes to the same name (checkLexInvariants); and, when
// pg_query parses the text, every reference the PostgreSQL lexer reports is one Analyze reports (the differential
// property of SPEC §5.3 on arbitrary input). Kept seeds are in testdata/fuzz/FuzzLexAnalyze.
func FuzzLexAnalyze(f *testing.F) {
	for _, s := range []string{
		`select * from a.b join "C"."d""e" on true, f.g`,
		`with x as (select * from s.t) insert into d.t select * from x`,
		`create or replace transient table DB.S.X as (select * from DB.S.Y // c` + "\n" + `)`,
		`merge into d.t using (select * from s.u) u on t.id = u.id when matched then update set a = u.a`,
		"select $$ from a.b $$, E'\\' from c.d', $q$x$q$ /* /* */ */ from s.t; drop table if exists a.b, c",
		`select * from identifier('a.b'), table(f(1)), @stage, :bind, $1 from x.y`,
		`alter table a.b rename to c; truncate only a.b, c.d; copy a.b (x) from stdin`,
		`select * from U&"a".b, a . b, a.b.c.d, "unterminated`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, sql string, snowflake bool) {
		d := Postgres
		if snowflake {
			d = Snowflake
		}
		a := LexAnalyze(sql, d)
		if a == nil || a.Parsed {
			t.Fatalf("LexAnalyze returned %v", a)
		}
		checkLexInvariants(t, sql, d, a)
		if snowflake {
			return
		}
		pa, err := Analyze(sql)
		if err != nil || !pa.Parsed {
			return
		}
		byStart := map[int]Reference{}
		qualByStart := map[int]Reference{}
		schemaByStart := map[int]Reference{}
		for _, st := range pa.Statements {
			for _, r := range st.References {
				byStart[r.Start] = r
			}
			for _, q := range st.Qualifiers {
				qualByStart[q.Start] = q
			}
			for _, q := range st.Schemas {
				schemaByStart[q.Start] = q
			}
		}
		for _, st := range a.Statements {
			for _, q := range st.Qualifiers {
				p, ok := qualByStart[q.Start]
				if !ok || p.End != q.End || !equalStrings(p.Parts, q.Parts) || !equalStrings(p.Normalized, q.Normalized) {
					t.Fatalf("lexer qualifier %s is not the parser's (%v)\nSQL: %q", describeRef(sql, q), ok, sql)
				}
			}
			for _, q := range st.Schemas {
				p, ok := schemaByStart[q.Start]
				if !ok || p.End != q.End || !equalStrings(p.Parts, q.Parts) || !equalStrings(p.Normalized, q.Normalized) {
					t.Fatalf("lexer schema %s is not the parser's (%v)\nSQL: %q", describeRef(sql, q), ok, sql)
				}
			}
			for _, r := range st.References {
				p, ok := byStart[r.Start]
				if !ok || p.End != r.End || p.Role != r.Role || !equalStrings(p.Parts, r.Parts) ||
					!equalStrings(p.Normalized, r.Normalized) || fmt.Sprint(p.Quoted) != fmt.Sprint(r.Quoted) {
					t.Fatalf("lexer reference %s is not the parser's (%v %v)\nSQL: %q\nparser: %+v", describeRef(sql, r), ok, p.Role, sql, pa.Statements)
				}
			}
		}
	})
}
