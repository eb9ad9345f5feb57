package deferral_test

import (
	"context"
	"strings"
	"testing"
)

// listSQL is dbt-postgres 1.11's list_relations_without_caching for dbt_fabio, behind adapter.get_relation.
const listSQL = `select
      '%DB%' as database,
      tablename as name,
      schemaname as schema,
      'table' as type
    from pg_tables
    where schemaname ilike 'dbt_fabio'
    union all
    select
      '%DB%' as database,
      viewname as name,
      schemaname as schema,
      'view' as type
    from pg_views
    where schemaname ilike 'dbt_fabio'
    union all
    select
      '%DB%' as database,
      matviewname as name,
      schemaname as schema,
      'materialized_view' as type
    from pg_matviews
    where schemaname ilike 'dbt_fabio'`

// TestGetRelationWarning: a dbt invocation that lists a dev schema and has a relation of it deferred is warned once
// per invocation and schema, whichever comes first, across sessions (dbt's threads), and status counts it; one
// relation's introspection is no listing.
func TestGetRelationWarning(t *testing.T) {
	e := newEnv(t, envOptions{})
	list := strings.ReplaceAll(listSQL, "%DB%", e.db)
	comment := func(inv, node string) string {
		return `/* {"app": "dbt", "dbt_version": "1.11.0", "profile_name": "p", "target_name": "dev", "node_id": "` + node +
			`", "invocation_id": "` + inv + `"} */ `
	}
	c1, c2 := e.connect(t, nil), e.connect(t, nil)
	warnings := func(c *client) []string {
		var out []string
		for _, n := range c.takeNotices() {
			if n.Severity == "WARNING" {
				out = append(out, n.Message)
			}
		}
		return out
	}
	ctx := context.Background()
	run := func(c *client, sql string) {
		t.Helper()
		rows, err := c.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	// Invocation 1: the listing on one connection, the deferred read on another.
	run(c1, comment("inv-1", "model.shop.customers")+list)
	if w := warnings(c1); len(w) != 0 {
		t.Fatalf("a listing alone warns: %q", w)
	}
	run(c2, comment("inv-1", "model.shop.customers")+"select * from dbt_fabio.stg_orders")
	w := warnings(c2)
	if len(w) != 1 || !strings.Contains(w[0], "this dbt invocation listed dev schema dbt_fabio, which lacks stg_orders that deferproxy reads from production") ||
		!strings.Contains(w[0], "dbt_utils.get_column_values") || !strings.Contains(w[0], "union_relations") {
		t.Fatalf("warnings %q", w)
	}
	// Once per invocation and schema.
	run(c2, comment("inv-1", "model.shop.customers")+"select * from dbt_fabio.stg_payments")
	run(c1, comment("inv-1", "model.shop.customers")+list)
	if w := append(warnings(c1), warnings(c2)...); len(w) != 0 {
		t.Fatalf("warned twice: %q", w)
	}
	// Invocation 2: the deferral first, then the listing; one relation's introspection does not count.
	run(c1, comment("inv-2", "model.shop.customers")+"select * from dbt_fabio.orders")
	run(c1, comment("inv-2", "model.shop.customers")+"select column_name from information_schema.columns where table_schema = 'dbt_fabio' and table_name = 'customers'")
	if w := warnings(c1); len(w) != 0 {
		t.Fatalf("no listing yet: %q", w)
	}
	run(c1, comment("inv-2", "model.shop.customers")+"select table_name from information_schema.tables where table_schema ilike 'dbt_fabio' and table_name ilike 'stg%'")
	if w := warnings(c1); len(w) != 1 || !strings.Contains(w[0], "lacks orders that") {
		t.Fatalf("get_relations_by_pattern's listing after the deferral: %q", w)
	}
	// Invocation 3 reads only: nothing.
	run(c1, comment("inv-3", "model.shop.customers")+"select * from dbt_fabio.stg_orders")
	if w := warnings(c1); len(w) != 0 {
		t.Fatalf("no listing in inv-3: %q", w)
	}

	st := e.eng.Status()
	var found bool
	for _, w := range st.Warnings {
		if w.Kind == "get_relation" {
			found = true
			if w.Count != 2 || !strings.Contains(w.Text, "(latest: dbt_fabio lacks orders)") {
				t.Errorf("status warning %+v", w)
			}
		}
	}
	if !found || len(st.GetRelation) != 2 || st.GetRelation[0].Invocation != "inv-2" || st.GetRelation[1].Relations[0] != "stg_orders" {
		t.Fatalf("status: warnings %+v, get_relation %+v", st.Warnings, st.GetRelation)
	}
}
