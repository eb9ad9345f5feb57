package deferral

import (
	"reflect"
	"testing"

	"github.com/deferproxy/deferproxy/rewrite"
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

func TestExpandSearchPath(t *testing.T) {
	if got := expandSearchPath([]string{"$user", "pg_catalog", "pg_temp", "x"}, "fabio"); !reflect.DeepEqual(got, []string{"fabio", "x"}) {
		t.Errorf("expandSearchPath = %q", got)
	}
}

func analyzed(t *testing.T, sql string) *rewrite.Analysis {
	t.Helper()
	an, err := rewrite.Analyze(sql)
	if err != nil {
		t.Fatal(err)
	}
	return an
}

func TestFindControls(t *testing.T) {
	sql := "SET deferproxy.mode = 'favor_state'; SHOW deferproxy.mode; RESET deferproxy.mode; SET LOCAL deferproxy.mode TO off; show DEFERPROXY.STATUS; SET work_mem = '1MB'"
	got := findControls(analyzed(t, sql))
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
	for _, s := range []string{"select 'deferproxy.mode'", "SET deferproxy.other = 1", "SET deferproxy.mode =",
		"select set_config('deferproxy.mode', 'off', false)"} {
		if c := findControls(analyzed(t, s)); len(c) != 0 {
			t.Errorf("%q: %+v", s, c)
		}
	}
}
