package snowflake

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStringField(t *testing.T) {
	for _, c := range []struct {
		in, val, err string
		found        bool
	}{
		{`{"sqlText":"select 1"}`, "select 1", "", true},
		{` { "a" : {"sqlText":"inner"} , "sqlText" :  "sel\u0065ct \"x\"" , "b":[1,2] } `, `select "x"`, "", true},
		{`{"a":1}`, "", "", false},
		{`{"sqlText":null}`, "", "", false},
		{`{"sqlText":1}`, "", "not a string", false},
		{`{"sqlText":"a","sqlText":"b"}`, "", "twice", false},
		{`["sqlText"]`, "", "not a JSON object", false},
		{`{"sqlText":"a"`, "", "not JSON", false},
		{`{"sqlText":"a"} trailing`, "", "not JSON", false},
	} {
		v, at, found, err := stringField([]byte(c.in), "sqlText")
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) || found != c.found || v != c.val {
			t.Errorf("%s: %q %v %v, want %q %v %q", c.in, v, found, err, c.val, c.found, c.err)
			continue
		}
		if found {
			out := withString([]byte(c.in), at, "X<&>\u2028")
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil || got["sqlText"] != "X<&>\u2028" {
				t.Errorf("%s: replaced to %s (%v)", c.in, out, err)
			}
			if string(out[:at.start]) != c.in[:at.start] || !strings.HasSuffix(string(out), c.in[at.end:]) {
				t.Errorf("%s: other bytes changed: %s", c.in, out)
			}
		}
	}
}

// FuzzStringField: whatever the body, a found sqlText replaced gives valid JSON whose sqlText is the new text and
// whose other members are unchanged.
func FuzzStringField(f *testing.F) {
	for _, s := range []string{`{"sqlText":"select 1","asyncExec":false}`, ` {"x":{"sqlText":1},"sqlText":"\u00e9\n"} `, `{"sqlText":null}`, `{}`} {
		f.Add(s, "select * from db.analytics.t")
	}
	f.Fuzz(func(t *testing.T, body, repl string) {
		_, at, found, err := stringField([]byte(body), "sqlText")
		if err != nil || !found {
			return
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		out := withString([]byte(body), at, repl)
		var before, after map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("%q → invalid JSON %q: %v", body, out, err)
		}
		var got string
		if err := json.Unmarshal(after["sqlText"], &got); err != nil || (utf8.ValidString(repl) && got != repl) {
			t.Fatalf("sqlText %q, want %q", got, repl)
		}
		for k, v := range before {
			if k != "sqlText" && string(after[k]) != string(v) {
				t.Fatalf("member %s changed: %s → %s", k, v, after[k])
			}
		}
	})
}

func TestTxWord(t *testing.T) {
	for in, want := range map[string]string{
		"begin":                             "BEGIN",
		"  /* c */ -- x\n commit;":          "COMMIT",
		"// c\nRollback":                    "ROLLBACK",
		"start transaction":                 "START",
		"select 1 /* begin */":              "SELECT",
		"/* unterminated":                   "",
		"":                                  "",
		"(select 1)":                        "SELECT",
		"commit\n/* {\"app\": \"dbt\"} */;": "COMMIT",
	} {
		if got := txWord(in); got != want {
			t.Errorf("txWord(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitQueryTag(t *testing.T) {
	for _, c := range []struct{ in, kept, mode, tag string }{
		{"team=growth", "team=growth", "", ""},
		{"deferproxy.mode=off", "", "off", ""},
		{"a deferproxy.mode=favor_state;DEFERPROXY.TAG=t1,b", "a b", "favor_state", "t1"},
		{"deferproxy.other=1", "deferproxy.other=1", "", ""},
	} {
		kept, mode, tag, _ := splitQueryTag(c.in)
		if kept != c.kept || mode != c.mode || tag != c.tag {
			t.Errorf("%q: %q %q %q", c.in, kept, mode, tag)
		}
	}
}
