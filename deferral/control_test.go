package deferral

import (
	"reflect"
	"testing"
)

func TestStartupSettings(t *testing.T) {
	cases := []struct {
		params map[string]string
		want   map[string]string
	}{
		{map[string]string{"options": "-c deferproxy.mode=favor_state"}, map[string]string{"deferproxy.mode": "favor_state"}},
		{map[string]string{"options": "-cdeferproxy.mode=off --search_path=dbt_fabio,public"}, map[string]string{"deferproxy.mode": "off", "search_path": "dbt_fabio,public"}},
		{map[string]string{"options": `-c search_path=a,\ b`}, map[string]string{"search_path": "a, b"}},
		{map[string]string{"search_path": "x", "DeferProxy.Mode": "off"}, map[string]string{"search_path": "x", "deferproxy.mode": "off"}},
		{map[string]string{"options": "-c statement_timeout=5"}, map[string]string{}},
	}
	for _, tc := range cases {
		if got := startupSettings(tc.params); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("startupSettings(%v) = %v, want %v", tc.params, got, tc.want)
		}
	}
}

func TestParseSearchPathList(t *testing.T) {
	cases := map[string][]string{
		`"$user", public`:       {"$user", "public"},
		`DBT_Fabio,"My Schema"`: {"dbt_fabio", "My Schema"},
		`  a ,b,, "x""y" `:      {"a", "b", `x"y`},
		``:                      nil,
	}
	for in, want := range cases {
		if got := parseSearchPathList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("parseSearchPathList(%q) = %q, want %q", in, got, want)
		}
	}
	if got := expandSearchPath([]string{"$user", "pg_catalog", "pg_temp", "x"}, "fabio"); !reflect.DeepEqual(got, []string{"fabio", "x"}) {
		t.Errorf("expandSearchPath = %q", got)
	}
}

func TestFindControls(t *testing.T) {
	sql := "SET deferproxy.mode = 'favor_state'; SHOW deferproxy.mode; RESET deferproxy.mode; SET LOCAL deferproxy.mode TO off; show DEFERPROXY.STATUS; SET work_mem = '1MB'"
	got := findControls(sql)
	if len(got) != 5 {
		t.Fatalf("found %d controls: %+v", len(got), got)
	}
	kinds := []controlKind{ctlSet, ctlShowMode, ctlReset, ctlSet, ctlShowStatus}
	for i, c := range got {
		if c.kind != kinds[i] {
			t.Errorf("control %d kind %v, want %v", i, c.kind, kinds[i])
		}
	}
	if got[0].value != "favor_state" || got[3].value != "off" || !got[3].local {
		t.Errorf("values: %+v", got)
	}
	if sql[got[1].start:got[1].end] != " SHOW deferproxy.mode" && sql[got[1].start:got[1].end] != "SHOW deferproxy.mode" {
		t.Errorf("span %q", sql[got[1].start:got[1].end])
	}
	if !onlyControls(sql[:got[2].end], got[:3]) || onlyControls("SHOW deferproxy.mode; select 1", findControls("SHOW deferproxy.mode; select 1")) {
		t.Error("onlyControls")
	}
	for _, s := range []string{"select 'deferproxy.mode'", "SET deferproxy.other = 1", "SET deferproxy.mode ="} {
		if c := findControls(s); len(c) != 0 {
			t.Errorf("%q: %+v", s, c)
		}
	}
	if !mentionsDeferproxy("show DeferProxy.mode") || mentionsDeferproxy("select deferproxy") {
		t.Error("mentionsDeferproxy")
	}
}

func TestIntrospectionLiteralScan(t *testing.T) {
	sql := `select column_name from "db".INFORMATION_SCHEMA.columns where table_name = 'stg_orders' and table_schema = 'dbt_fabio'
	and 'db' = table_catalog and n.nspname ilike 'x''y' and c.relname like 'a%' and other = 'no' and table_name in ('z')`
	got := introspectionLiterals(sql)
	want := []struct {
		role  literalRole
		value string
	}{{litName, "stg_orders"}, {litSchema, "dbt_fabio"}, {litCatalog, "db"}, {litSchema, "x'y"}, {litName, "a%"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, l := range got {
		if l.role != want[i].role || l.value != want[i].value || sql[l.start] != '\'' || sql[l.end-1] != '\'' {
			t.Errorf("literal %d: %+v (%q), want %+v", i, l, sql[l.start:l.end], want[i])
		}
	}
}

func TestFirstWord(t *testing.T) {
	cases := map[string]string{
		"  BEGIN":                         "BEGIN",
		"/* {\"a\": 1} */ set x = 1":      "set",
		"-- c\n\nrollback to savepoint a": "rollback",
		";;show x":                        "show",
		"/* unterminated":                 "",
		"":                                "",
	}
	for in, want := range cases {
		if got := firstWord(in); got != want {
			t.Errorf("firstWord(%q) = %q, want %q", in, got, want)
		}
	}
}
