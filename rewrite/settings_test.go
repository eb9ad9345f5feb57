package rewrite

import (
	"reflect"
	"testing"
)

func TestSplitList(t *testing.T) {
	cases := map[string][]string{
		`"$user", public`:       {"$user", "public"},
		`DBT_Fabio,"My Schema"`: {"dbt_fabio", "My Schema"},
		`  a ,b,, "x""y" `:      {"a", "b", `x"y`},
		``:                      nil,
	}
	for in, want := range cases {
		if got := SplitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAnalyzeSettings: SET, SET LOCAL, RESET, SET … TO DEFAULT, RESET ALL, set_config (constant or not) and SHOW come out of the one parse, with
// their spans.
func TestAnalyzeSettings(t *testing.T) {
	sql := `SET deferproxy.mode = 'favor_state'; SET LOCAL search_path TO DBT_Fabio, "My Schema"; RESET Work_Mem; ` +
		`set statement_timeout to default; select set_config('search_path', 'a, "B"', true), 1; SHOW DeferProxy.Status; ` +
		`SET TIME ZONE 'UTC'; RESET ALL; select set_config(name, 'x', false) from t`
	a, err := Analyze(sql)
	if err != nil || !a.Parsed || len(a.Statements) != 9 {
		t.Fatalf("analysis: %v, %+v", err, a)
	}
	type got struct {
		settings []Setting
		show     string
	}
	want := []got{
		{settings: []Setting{{Name: "deferproxy.mode", Value: "favor_state", List: []string{"favor_state"}}}},
		{settings: []Setting{{Name: "search_path", Value: "dbt_fabio, My Schema", List: []string{"dbt_fabio", "My Schema"}, Local: true}}},
		{settings: []Setting{{Name: "work_mem", Reset: true}}},
		{settings: []Setting{{Name: "statement_timeout", Reset: true}}},
		{settings: []Setting{{Name: "search_path", Value: `a, "B"`, List: []string{"a", "B"}, Local: true, Call: true}}},
		{show: "deferproxy.status"},
		{settings: []Setting{{Name: "timezone", Value: "UTC", List: []string{"UTC"}}}},
		{settings: []Setting{{Name: "all", Reset: true}}},  // RESET ALL
		{settings: []Setting{{Call: true, Unknown: true}}}, // set_config with a non-constant name: unknown
	}
	for i, st := range a.Statements {
		for j := range st.Settings {
			s := &st.Settings[j]
			span := sql[s.Start:s.End]
			if s.Call && !s.Unknown && span != `set_config('search_path', 'a, "B"', true)` || s.Unknown && span != `set_config(name, 'x', false)` ||
				!s.Call && span != sql[st.Start:st.End] {
				t.Errorf("statement %d setting %d: span %q", i, j, span)
			}
			s.Start, s.End = 0, 0
		}
		if !reflect.DeepEqual(got{st.Settings, st.Show}, want[i]) {
			t.Errorf("statement %d (%s): settings %+v show %q, want %+v", i, sql[st.Start:st.End], st.Settings, st.Show, want[i])
		}
	}
}

// TestIntrospectionLiterals: a catalog query's literals compared with name columns, with parts and spans; a text of
// the same literal shape gets its own values, never those of the analysis it was shifted from.
func TestIntrospectionLiterals(t *testing.T) {
	sql := `select column_name from "db".INFORMATION_SCHEMA.columns where table_name = 'stg_orders' and table_schema = 'dbt_fabio'
	and 'db' = table_catalog and n.nspname ilike 'x''y' and c.relname like 'a%' and other = 'no' and table_name in ('z')`
	a, err := Analyze(sql)
	if err != nil || len(a.Statements) != 1 || !a.Statements[0].CatalogQuery {
		t.Fatalf("analysis: %v %+v", err, a)
	}
	type lit struct {
		part  NamePart
		value string
	}
	check := func(sql string, a *Analysis, want []lit) {
		t.Helper()
		got := a.Statements[0].Literals
		if len(got) != len(want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		for i, l := range got {
			if l.Part != want[i].part || l.Value != want[i].value || sql[l.Start] != '\'' || sql[l.End-1] != '\'' {
				t.Errorf("literal %d: %+v (%q), want %+v", i, l, sql[l.Start:l.End], want[i])
			}
		}
	}
	check(sql, a, []lit{{PartName, "stg_orders"}, {PartSchema, "dbt_fabio"}, {PartDatabase, "db"}, {PartSchema, "x'y"}, {PartName, "a%"}})

	c := NewCache(16)
	q1 := `select * from information_schema.tables where table_schema = 'dbt_fabio' and table_name = 'orders'`
	q2 := `select * from information_schema.tables where table_schema = 'analytics_long_name' and table_name = 'x'`
	if _, err := c.Analyze(q1); err != nil {
		t.Fatal(err)
	}
	a2, err := c.Analyze(q2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stats().ShapeHits != 1 {
		t.Fatalf("q2 was not a shape hit: %+v", c.Stats())
	}
	check(q2, a2, []lit{{PartSchema, "analytics_long_name"}, {PartName, "x"}})
}

// TestShapeNeverReusesSettings: texts that differ only in a SET's value are parsed each on their own.
func TestShapeNeverReusesSettings(t *testing.T) {
	c := NewCache(16)
	for _, v := range []string{"off", "defer"} {
		a, err := c.Analyze("SET deferproxy.mode = '" + v + "'")
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Statements[0].Settings[0].Value; got != v {
			t.Errorf("value %q, want %q", got, v)
		}
	}
}
