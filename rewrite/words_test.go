package rewrite

import "testing"

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
		if got := FirstWord(in); got != want {
			t.Errorf("FirstWord(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTxControl(t *testing.T) {
	cases := map[string]TxEffect{
		"BEGIN": TxBegin, "start transaction": TxBegin, "rollback": TxRollback, "ABORT": TxRollback,
		"rollback to savepoint a": TxNone, "commit": TxNone, "": TxNone, "select 1": TxNone,
	}
	for in, want := range cases {
		if got := TxControl(FirstWord(in), in); got != want {
			t.Errorf("TxControl(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestContains(t *testing.T) {
	if !ContainsFold("show DeferProxy.mode", "deferproxy.") || ContainsFold("select deferproxy", "deferproxy.") {
		t.Error("ContainsFold")
	}
	if !ContainsWord("drop schema Analytics cascade", "analytics") || ContainsWord("drop schema analytics_2", "analytics") ||
		ContainsWord("x.analytics$1", "analytics") || !ContainsWord("analytics", "analytics") || ContainsWord("a", "") {
		t.Error("ContainsWord")
	}
	if !WriteVerb("INSERT") || WriteVerb("show") {
		t.Error("WriteVerb")
	}
}

func TestApply(t *testing.T) {
	sql := "select a from b where c = 'd'"
	out, err := Apply(sql, []Edit{{Start: 26, End: 29, Text: "'e'"}, {Start: 14, End: 15, Text: "x.y"}})
	if err != nil || out != "select a from x.y where c = 'e'" {
		t.Errorf("Apply = %q, %v", out, err)
	}
	if out, err := Apply(sql, nil); err != nil || out != sql {
		t.Errorf("no edits: %q, %v", out, err)
	}
	for _, bad := range [][]Edit{{{Start: 3, End: 8, Text: "x"}, {Start: 7, End: 9, Text: "y"}}, {{Start: 20, End: 99, Text: "z"}}, {{Start: 5, End: 4}}} {
		if out, err := Apply(sql, bad); err == nil || out != sql {
			t.Errorf("Apply(%+v) = %q, %v: want an error and the text unchanged", bad, out, err)
		}
	}
}

func TestSeveralStatements(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT 1":                  false,
		"SELECT 1;":                 false,
		"  SELECT 1 ;\n ":           false,
		";;SELECT 1;;":              false,
		"SELECT 1; SELECT 2":        true,
		"SELECT 1; -- trailing":     true, // a comment after the semicolon: analysed, to be safe
		"SELECT ';'":                true, // inside a string: errs towards yes
		"SET x = 1; DELETE FROM t;": true,
		"":                          false,
		";":                         false,
	} {
		if got := SeveralStatements(sql); got != want {
			t.Errorf("SeveralStatements(%q) = %v, want %v", sql, got, want)
		}
	}
}
