package catalog

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseQueryComment(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		ok   bool
		want QueryComment
	}{
		{"dbt-postgres node", `/* {"app": "dbt", "dbt_version": "1.11.2", "profile_name": "pg", "target_name": "dev", "node_id": "model.shop.orders"} */
create view "p"."dbt_alice"."orders__dbt_tmp" as (select 1)`, true,
			QueryComment{App: "dbt", DbtVersion: "1.11.2", ProfileName: "pg", TargetName: "dev", NodeID: "model.shop.orders"}},
		{"connection name outside a node", `/* {"app": "dbt", "dbt_version": "1.8.4", "profile_name": "pg", "target_name": "dev", "connection_name": "list_p_dbt_alice"} */ select 1`, true,
			QueryComment{App: "dbt", DbtVersion: "1.8.4", ProfileName: "pg", TargetName: "dev", ConnectionName: "list_p_dbt_alice"}},
		{"with invocation id (README query-comment)", ` /* {"app": "dbt", "node_id": "seed.shop.raw", "invocation_id": "0f4c-11"} */select 1`, true,
			QueryComment{App: "dbt", NodeID: "seed.shop.raw", InvocationID: "0f4c-11"}},
		{"dbt-snowflake appends", "select * from A.B.C\n/* {\"app\": \"dbt\", \"node_id\": \"model.p.c\"} */;  \n", true,
			QueryComment{App: "dbt", NodeID: "model.p.c"}},
		{"appended after a leading non-JSON comment", "/* plain */ select 1 /* {\"node_id\": \"model.p.x\"} */", true,
			QueryComment{NodeID: "model.p.x"}},
		{"non-string values skipped", `/* {"app": "dbt", "n": 3, "f": false, "x": null, "nested": {"a": [1, "}"]}, "node_id": "model.p.y"} */ select 1`, true,
			QueryComment{App: "dbt", NodeID: "model.p.y"}},
		{"escapes decoded", `/* {"app": "dbt", "node_id": "model.p.\u0041\"q"} */ select 1`, true,
			QueryComment{App: "dbt", NodeID: `model.p.A"q`}},
		{"empty object", `/* {} */ select 1`, true, QueryComment{}},
		{"no comment", `select 1`, false, QueryComment{}},
		{"line comment", "-- {\"node_id\": \"model.p.x\"}\nselect 1", false, QueryComment{}},
		{"comment not JSON", `/* hello */ select 1`, false, QueryComment{}},
		{"unterminated comment", `/* {"node_id": "model.p.x"} select 1`, false, QueryComment{}},
		{"unterminated object", `/* {"node_id": "model.p.x" */ select 1`, false, QueryComment{}},
		{"missing colon", `/* {"node_id" "model.p.x"} */ select 1`, false, QueryComment{}},
		{"trailing comma", `/* {"node_id": "model.p.x",} */ select 1`, false, QueryComment{}},
		{"junk after object", `/* {"node_id": "model.p.x"} junk */ select 1`, false, QueryComment{}},
		{"control char in string", "/* {\"node_id\": \"a\nb\"} */ select 1", false, QueryComment{}},
		{"comment in the middle only", `select /* {"node_id": "model.p.x"} */ 1`, false, QueryComment{}},
		{"empty", ``, false, QueryComment{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseQueryComment(tt.sql)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseQueryComment = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseQueryCommentAllocs(t *testing.T) {
	sql := `/* {"app": "dbt", "dbt_version": "1.11.2", "profile_name": "pg", "target_name": "dev", "node_id": "model.shop.orders", "invocation_id": "a-b-c"} */ select 1`
	if n := testing.AllocsPerRun(100, func() { ParseQueryComment(sql) }); n != 0 {
		t.Errorf("ParseQueryComment allocates %v times per call; want 0", n)
	}
}

// FuzzParseQueryComment checks that the parser never panics and, when it accepts a comment, agrees with
// encoding/json about every string field it returns.
func FuzzParseQueryComment(f *testing.F) {
	f.Add(`/* {"app": "dbt", "node_id": "model.p.x"} */ select 1`)
	f.Add("select 1\n/* {\"app\": \"dbt\", \"node_id\": \"model.p.c\"} */;")
	f.Add(`/* {"a": {"b": ["}", 1]}, "node_id": "\u00e9"} */`)
	f.Add(`/* {`)
	f.Fuzz(func(t *testing.T, sql string) {
		if !utf8.ValidString(sql) {
			return // PostgreSQL rejects such a statement before it runs; encoding/json would substitute U+FFFD
		}
		qc, ok := ParseQueryComment(sql)
		if !ok {
			return
		}
		body, found := leadingComment(sql)
		if _, good := parseCommentJSON(body); !found || !good {
			body, _ = trailingComment(sql)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &m); err != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", body, err)
		}
		if v, _ := m["node_id"].(string); v != qc.NodeID {
			t.Fatalf("node_id %q, encoding/json says %q", qc.NodeID, v)
		}
		if v, _ := m["invocation_id"].(string); v != qc.InvocationID {
			t.Fatalf("invocation_id %q, encoding/json says %q", qc.InvocationID, v)
		}
	})
}

func BenchmarkParseQueryComment(b *testing.B) {
	sql := `/* {"app": "dbt", "dbt_version": "1.11.2", "profile_name": "pg", "target_name": "dev", "node_id": "model.shop.orders"} */
create view "p"."dbt_alice"."orders__dbt_tmp" as (select * from "p"."dbt_alice"."stg_orders")`
	b.ReportAllocs()
	b.SetBytes(int64(len(sql)))
	for b.Loop() {
		ParseQueryComment(sql)
	}
}
