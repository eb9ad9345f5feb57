package rewrite

import (
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

var viewTestNodes = []ViewNode{
	{DevSchema: "dbt_fabio", DevName: "stg_orders", ProdSchema: "analytics", ProdName: "stg_orders"},
	{DevSchema: "dbt_fabio_staging", DevName: "o'brien", ProdSchema: "analytics_staging", ProdName: "o'brien"},
}

// TestCatalogView: which statements the catalog view rewrites, and how: the catalog names (with the alias kept or
// added), the WITH list in front (joined to the statement's own), the oid functions; and what it leaves alone.
func TestCatalogView(t *testing.T) {
	for _, tc := range []struct {
		name, sql string
		want      []string // substrings of the result; nil: no edits
		keep      []string // substrings of the input that must survive byte for byte
	}{
		{name: "aliased", sql: "SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relnamespace = 2200",
			want: []string{"WITH __deferproxy_nodes(ds, dn, ps, pn, nso) AS (VALUES ('dbt_fabio'::pg_catalog.name",
				"'o''brien'::pg_catalog.name", ") c WHERE c.relnamespace = 2200", "FROM pg_catalog.pg_class x WHERE x.oid NOT IN"},
			keep: []string{"SELECT c.relname FROM ", " c WHERE c.relnamespace = 2200"}},
		{name: "unqualified without alias keeps the name", sql: "select relname from pg_class where relkind = 'r'",
			want: []string{") AS pg_class where relkind = 'r'"}},
		{name: "own WITH", sql: "WITH s AS (SELECT oid FROM pg_namespace) SELECT * FROM s",
			want: []string{"WITH __deferproxy_nodes(", "__deferproxy_hidden AS (", "), s AS (SELECT oid FROM (SELECT x.* FROM pg_catalog.pg_namespace x"}},
		{name: "WITH RECURSIVE", sql: "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 2) SELECT * FROM r, information_schema.tables t",
			want: []string{"WITH RECURSIVE __deferproxy_nodes(", "), r(n) AS (SELECT 1", "FROM information_schema.tables x WHERE (x.table_schema"}},
		{name: "leading comment", sql: "/* IDE */ SELECT * FROM pg_catalog.pg_tables",
			want: []string{"/* IDE */ WITH __deferproxy_nodes(", ") AS pg_tables"}},
		{name: "oid functions", sql: "SELECT pg_catalog.obj_description(c.oid, 'pg_class'), col_description(c.oid, a.attnum), pg_catalog.pg_get_viewdef('16385'::pg_catalog.oid, true) FROM pg_class c, pg_attribute a",
			want: []string{"COALESCE((SELECT m.note FROM __deferproxy_map m WHERE m.fake_oid = (c.oid)), pg_catalog.obj_description(c.oid, 'pg_class'))",
				"col_description(COALESCE((SELECT m.prod_oid FROM __deferproxy_rel m WHERE m.fake_oid = (c.oid)), (c.oid)), a.attnum)",
				"pg_get_viewdef(COALESCE((SELECT m.prod_oid FROM __deferproxy_rel m WHERE m.fake_oid = ('16385'::pg_catalog.oid)), ('16385'::pg_catalog.oid)), true)"}},
		{name: "the oid in a later argument", sql: "SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true), pg_total_relation_size(c.oid) FROM pg_attrdef d, pg_class c",
			want: []string{"pg_catalog.pg_get_expr(d.adbin, COALESCE((SELECT m.prod_oid FROM __deferproxy_rel m WHERE m.fake_oid = (d.adrelid)), (d.adrelid)), true)",
				"pg_total_relation_size(COALESCE((SELECT m.prod_oid FROM __deferproxy_rel m WHERE m.fake_oid = (c.oid)), (c.oid)))"}},
		{name: "a function alone", sql: "SELECT pg_catalog.pg_get_viewdef('4294950900'::pg_catalog.oid, true)",
			want: []string{"WITH __deferproxy_nodes(", "pg_get_viewdef(COALESCE("}},
		{name: "another schema's function", sql: "SELECT myschema.obj_description(1) FROM pg_class", want: []string{"myschema.obj_description(1)", ") AS pg_class"}},
		{name: "two statements", sql: "SELECT 1 FROM pg_class; SELECT 2 FROM pg_index",
			want: []string{"WITH __deferproxy_nodes(", ") AS pg_class; WITH __deferproxy_nodes(", ") AS pg_index"}},
		{name: "ONLY", sql: "SELECT * FROM ONLY pg_class"},
		{name: "system column (DataGrip's xmin)", sql: "SELECT c.oid, c.xmin AS state_number FROM pg_class c",
			want: []string{"(SELECT x.*, x.xmin AS xmin FROM pg_catalog.pg_class x WHERE", "UNION ALL SELECT r.*, x.xmin AS xmin FROM pg_catalog.pg_class x JOIN"}},
		{name: "system column and a star", sql: "SELECT c.*, c.xmin FROM pg_class c"},
		{name: "system column and a bare star", sql: "SELECT *, xmin FROM pg_class"},
		{name: "schema-qualified column", sql: "SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class"},
		{name: "not a SELECT", sql: "COPY (SELECT * FROM pg_class) TO STDOUT"},
		{name: "no catalog", sql: "SELECT * FROM dbt_fabio.stg_orders"},
		{name: "a CTE named pg_class", sql: "WITH pg_class AS (SELECT 1 AS relname) SELECT relname FROM pg_class"},
		{name: "other catalogs", sql: "SELECT * FROM pg_catalog.pg_type, pg_proc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Analyze(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			edits := CatalogView(tc.sql, a, viewTestNodes, nil)
			if tc.want == nil {
				if edits != nil {
					out, _ := Apply(tc.sql, edits)
					t.Fatalf("want no edits, got %s", out)
				}
				return
			}
			out, err := Apply(tc.sql, edits)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range append(tc.want, tc.keep...) {
				if !strings.Contains(out, w) {
					t.Errorf("result lacks %q:\n%s", w, out)
				}
			}
			if _, err := pg_query.Parse(out); err != nil {
				t.Errorf("result does not parse: %v\n%s", err, out)
			}
		})
	}
}

// TestCatalogViewNothingToShow: no deferred model, no edits; a name the literal syntax cannot carry as written
// (a backslash, which standard_conforming_strings = off would read as an escape) turns the view off.
func TestCatalogViewNothingToShow(t *testing.T) {
	sql := "SELECT * FROM pg_class"
	a, _ := Analyze(sql)
	if e := CatalogView(sql, a, nil, nil); e != nil {
		t.Errorf("no nodes: %v", e)
	}
	if e := CatalogView(sql, a, []ViewNode{{DevSchema: "d", DevName: `a\b`, ProdSchema: "p", ProdName: `a\b`}}, nil); e != nil {
		t.Errorf("backslash: %v", e)
	}
}

// FuzzCatalogView: for any text, the catalog view's edits apply, do not overlap, leave every byte outside them alone
// and give a text that parses into as many statements.
func FuzzCatalogView(f *testing.F) {
	addGoldenSeeds(f)
	for _, s := range []string{
		"SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
		"WITH x AS (SELECT * FROM information_schema.columns) SELECT * FROM x",
		"SELECT obj_description(c.oid, 'pg_class') FROM pg_class c",
		"SELECT pg_catalog.col_description((SELECT oid FROM pg_class LIMIT 1), 1)",
		"(SELECT * FROM pg_tables) UNION (SELECT * FROM pg_tables)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		a, err := Analyze(sql)
		if err != nil || !a.Parsed {
			return
		}
		edits := CatalogView(sql, a, viewTestNodes, nil)
		if edits == nil {
			return
		}
		out, err := Apply(sql, append([]Edit(nil), edits...))
		if err != nil {
			t.Fatalf("edits do not apply: %v", err)
		}
		// The bytes between edits are the input's.
		sorted := append([]Edit(nil), edits...)
		pos, opos := 0, 0
		for _, e := range sortEdits(sorted) {
			if e.Start < pos {
				t.Fatalf("overlapping edits at %d", e.Start)
			}
			gap := sql[pos:e.Start]
			if !strings.HasPrefix(out[opos:], gap) {
				t.Fatalf("text before %d changed", e.Start)
			}
			opos += len(gap) + len(e.Text)
			pos = e.End
		}
		if out[opos:] != sql[pos:] {
			t.Fatalf("the tail changed")
		}
		res, err := pg_query.Parse(out)
		if err != nil {
			t.Fatalf("result does not parse: %v", err)
		}
		if len(res.Stmts) != len(a.Statements) {
			t.Fatalf("%d statements became %d", len(a.Statements), len(res.Stmts))
		}
	})
}

// sortEdits orders edits by start (insertions first at equal starts, as Apply does).
func sortEdits(es []Edit) []Edit {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Start < es[j-1].Start; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	return es
}
