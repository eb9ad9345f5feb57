package rewrite_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/rewrite"
)

// TestCatalogViewOnServer runs catalog queries rewritten by CatalogView on a real PostgreSQL, in both forms of a
// shown row (a projection of the catalogs' columns as the server lists them, and jsonb_populate_record without
// them): each gives the rows expected, and the two forms give the same rows.
func TestCatalogViewOnServer(t *testing.T) {
	c := pgtest.Shared(t)
	db := c.NewDatabase(t)
	c.Exec(t, db, `
create schema analytics; create schema dbt_fabio;
create table analytics.orders (id int primary key, status text not null default 'new'); create index orders_status on analytics.orders (status);
comment on table analytics.orders is 'one row per order'; comment on column analytics.orders.status is 'lifecycle';
create view analytics.v_orders as select id from analytics.orders;
create table dbt_fabio.fct (x int);
create table analytics.fct (y int);
create table analytics.stg (id int primary key);
`)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres", "", db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	nodes := []rewrite.ViewNode{
		{DevSchema: "dbt_fabio", DevName: "orders", ProdSchema: "analytics", ProdName: "orders"},
		{DevSchema: "dbt_fabio", DevName: "v_orders", ProdSchema: "analytics", ProdName: "v_orders"},
		// A dev relation that exists but reads production (favor_state): production's replaces it.
		{DevSchema: "dbt_fabio", DevName: "fct", ProdSchema: "analytics", ProdName: "fct"},
		// A dev schema that does not exist yet.
		{DevSchema: "dbt_fabio_staging", DevName: "stg", ProdSchema: "analytics", ProdName: "stg"},
		// One production relation is shown once, where the first node that maps to it says.
		{DevSchema: "dbt_fabio_other", DevName: "stg", ProdSchema: "analytics", ProdName: "stg"},
		// Production lacks it: not shown.
		{DevSchema: "dbt_fabio", DevName: "gone", ProdSchema: "analytics", ProdName: "gone"},
	}
	// The columns as the proxy asks for them (catalog.DevCatalog.CatalogColumns), not a copy of its query.
	dc, err := catalog.NewDevCatalog(catalog.DevCatalogConfig{DSN: c.URL("postgres", "", db), NoNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	cols, err := dc.CatalogColumns(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != len(rewrite.ViewedCatalogRelations()) {
		t.Fatalf("columns of %d catalogs, want %d", len(cols), len(rewrite.ViewedCatalogRelations()))
	}

	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{`SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname LIKE 'dbt_fabio%' AND c.relkind IN ('r', 'v') ORDER BY 1`,
			[]string{"dbt_fabio.fct:r", "dbt_fabio.orders:r", "dbt_fabio.v_orders:v", "dbt_fabio_staging.stg:r"}},
		{`SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'dbt_fabio' AND c.relname IN ('orders', 'fct') AND a.attnum > 0 ORDER BY c.relname, a.attnum`,
			[]string{"y integer false", "id integer true", "status text true"}},
		{`SELECT table_schema || '.' || table_name || '.' || column_name FROM information_schema.columns WHERE table_schema LIKE 'dbt_fabio%' ORDER BY 1`,
			[]string{"dbt_fabio.fct.y", "dbt_fabio.orders.id", "dbt_fabio.orders.status", "dbt_fabio.v_orders.id", "dbt_fabio_staging.stg.id"}},
		{`SELECT coalesce(d.description, '-') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass WHERE n.nspname = 'dbt_fabio' AND c.relname = 'orders' ORDER BY d.objsubid`,
			[]string{"deferproxy: not built in dbt_fabio; reads production analytics.orders - one row per order", "lifecycle"}},
		{`SELECT ci.relname || ' ' || i.indisprimary::text FROM pg_index i JOIN pg_class ct ON ct.oid = i.indrelid JOIN pg_class ci ON ci.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ct.relnamespace WHERE n.nspname = 'dbt_fabio' ORDER BY 1`,
			[]string{"orders_pkey true", "orders_status false"}},
		{`SELECT conname FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = 'dbt_fabio_staging'`,
			[]string{"stg_pkey"}},
		{`SELECT tablename FROM pg_tables WHERE schemaname = 'dbt_fabio' UNION ALL SELECT viewname FROM pg_views WHERE schemaname = 'dbt_fabio' ORDER BY 1`,
			[]string{"fct", "orders", "v_orders"}},
		{`SELECT (pg_get_viewdef(c.oid) IS NOT NULL AND obj_description(c.oid, 'pg_class') LIKE 'deferproxy:%')::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'dbt_fabio' AND c.relname = 'v_orders'`, []string{"true"}},
		{`SELECT pg_get_expr(d.adbin, d.adrelid) || ' ' || (pg_total_relation_size(c.oid) > 0)::text FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'dbt_fabio' AND c.relname = 'orders'`, []string{"'new'::text true"}},
		// A shown relation's indexes are in the dev schema, and production's are listed once (psql's \di).
		{`SELECT n.nspname || '.' || c2.relname || ' ' || c.relname || ' ' || pg_get_indexdef(i.indexrelid, 0, true) FROM pg_class c, pg_class c2, pg_index i, pg_namespace n
WHERE c.oid = i.indrelid AND c2.oid = i.indexrelid AND n.oid = c2.relnamespace AND n.nspname IN ('analytics', 'dbt_fabio') AND c.relname = 'orders' ORDER BY 1`,
			[]string{"analytics.orders_pkey orders CREATE UNIQUE INDEX orders_pkey ON analytics.orders USING btree (id)",
				"analytics.orders_status orders CREATE INDEX orders_status ON analytics.orders USING btree (status)",
				"dbt_fabio.orders_pkey orders CREATE UNIQUE INDEX orders_pkey ON analytics.orders USING btree (id)",
				"dbt_fabio.orders_status orders CREATE INDEX orders_status ON analytics.orders USING btree (status)"}},
		{`SELECT co.conname || ' ' || ci.relname || ' ' || n.nspname FROM pg_constraint co JOIN pg_class ci ON ci.oid = co.conindid JOIN pg_namespace n ON n.oid = ci.relnamespace
JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace WHERE cn.nspname = 'dbt_fabio' AND c.relname = 'orders'`,
			[]string{"orders_pkey orders_pkey dbt_fabio"}},
		// DataGrip's introspection reads xmin (its state_number) of the catalogs.
		{`select N.nspname || ' ' || (N.xmin::text::bigint >= 0)::text || ' ' || count(T.oid) || ' ' || count(D.objoid)
from pg_catalog.pg_namespace N join pg_catalog.pg_class T on T.relnamespace = N.oid
left join pg_catalog.pg_description D on D.objoid = T.oid and D.objsubid = 0 and T.xmin is not null and D.xmin is not null
where N.nspname like 'dbt_fabio%' and T.relkind in ('r', 'v') group by N.nspname, N.xmin order by 1`,
			[]string{"dbt_fabio true 3 3", "dbt_fabio_staging true 1 1"}},
		// Production itself is described once, as it is.
		{`SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'analytics' AND c.relname = 'orders'`,
			[]string{"1"}},
	} {
		a, err := rewrite.Analyze(tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		var got [2][]string
		for i, cc := range []rewrite.CatalogColumns{cols, nil} {
			edits := rewrite.CatalogView(tc.sql, a, nodes, cc)
			if edits == nil {
				t.Fatalf("no edits for %s", tc.sql)
			}
			out, err := rewrite.Apply(tc.sql, edits)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, out)
			if err != nil {
				t.Fatalf("%s: %v", strings.SplitN(tc.sql, "\n", 2)[0], err)
			}
			got[i], err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("%s: %v", strings.SplitN(tc.sql, "\n", 2)[0], err)
			}
		}
		if !slices.Equal(got[0], tc.want) {
			t.Errorf("%s\n got %q\nwant %q", tc.sql, got[0], tc.want)
		}
		if !slices.Equal(got[0], got[1]) {
			t.Errorf("%s: the two forms differ: %q and %q", tc.sql, got[0], got[1])
		}
	}
}
