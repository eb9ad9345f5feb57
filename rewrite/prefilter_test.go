package rewrite

import (
	"strings"
	"testing"
)

func TestPrefilterMatch(t *testing.T) {
	p := NewPrefilter([]string{"dbt_fabio", "analytics", `we"ird`})
	tests := []struct {
		sql  string
		want bool
	}{
		{"select * from dbt_fabio.orders", true},
		{`select * from "DBT_FABIO"."orders"`, true},
		{"select * from Dbt_Fabio.orders", true},
		{"select 1 -- mentions analytics in a comment", true},
		{"select * from ANALYTICS.x", true},
		{`select * from "we""ird".t`, true},
		{"dbt_fabio", true},
		{"select * from public.orders where x = 'dbt_fabi'", false},
		{"select * from dbt_fabian.orders", false},
		{"select * from analytic.x", false},
		{"", false},
		{`select * from U&"d\0062t_fabio".x`, true}, // escapes could spell anything
	}
	for _, tt := range tests {
		if got := p.Match(tt.sql); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
	if NewPrefilter(nil).Match("select * from dbt_fabio.x") {
		t.Error("an empty prefilter matched")
	}
}

func TestRarestByte(t *testing.T) {
	if got := "dbt_fabio"[rarestByte("dbt_fabio")]; got != 'b' && got != 'f' && got != '_' {
		t.Errorf("anchor of dbt_fabio = %q", got)
	}
	if got := "analytics"[rarestByte("analytics")]; got != 'y' {
		t.Errorf("anchor of analytics = %q, want y", got)
	}
	if !NewPrefilter([]string{strings.Repeat("x", 3)}).Match("XXX") {
		t.Error("upper-case spelling missed")
	}
}
