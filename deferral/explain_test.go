package deferral_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/deferral"
)

// fixture loads the hand-written production manifest of testdata for database db.
func fixture(t *testing.T, db string) *catalog.Manifest {
	t.Helper()
	m, err := catalog.LoadManifestFile(writeManifest(t, db, time.Now()))
	if err != nil {
		t.Fatalf("load fixture manifest: %v", err)
	}
	return m
}

// TestExplainDecisions is a table test of the decision core without a proxy: rewritten SQL and actions per reference.
func TestExplainDecisions(t *testing.T) {
	m := fixture(t, "shopdb")
	exists := catalog.NewStaticCatalog(catalog.Relation{Database: "shopdb", Schema: "dbt_fabio", Identifier: "stg_customers"})
	cases := []struct {
		name, mode, sql, want string
		actions               string
		refused               bool
	}{
		{"missing dev relation defers", "", "select * from dbt_fabio.stg_orders", "select * from analytics.stg_orders", "defer", false},
		{"existing dev relation stays", "", "select * from dbt_fabio.stg_customers", "select * from dbt_fabio.stg_customers", "keep", false},
		{"favor_state defers existing unselected", "favor_state", "select * from dbt_fabio.stg_customers", "select * from analytics.stg_customers", "defer", false},
		{"mode off", "off", "select * from dbt_fabio.stg_orders", "select * from dbt_fabio.stg_orders", "keep", false},
		{"3-part name keeps 3 parts", "", `select * from "shopdb"."dbt_fabio"."orders"`, `select * from shopdb.analytics.orders`, "defer", false},
		{"ephemeral never", "", "select * from dbt_fabio.eph_orders", "select * from dbt_fabio.eph_orders", "keep", false},
		{"source never", "", "select * from raw.events", "select * from raw.events", "keep", false},
		{"tmp names never", "", "select * from dbt_fabio.orders__dbt_tmp", "select * from dbt_fabio.orders__dbt_tmp", "keep", false},
		{"CTE shadows", "", "with stg_orders as (select 1) select * from stg_orders, dbt_fabio.orders", "with stg_orders as (select 1) select * from stg_orders, analytics.orders", "defer", false},
		{"CTAS target kept, source deferred", "", "create table dbt_fabio.orders as select * from dbt_fabio.stg_orders",
			"create table dbt_fabio.orders as select * from analytics.stg_orders", "keep,defer", false},
		{"executing node kept", "", `/* {"app": "dbt", "node_id": "model.shop.orders"} */ select * from dbt_fabio.orders o join dbt_fabio.stg_orders s using (id)`,
			`/* {"app": "dbt", "node_id": "model.shop.orders"} */ select * from dbt_fabio.orders o join analytics.stg_orders s using (id)`, "keep,defer", false},
		{"prod write refused", "", "insert into analytics.orders select * from dbt_fabio.stg_orders", "insert into analytics.orders select * from dbt_fabio.stg_orders", "refuse,keep", true},
		{"prod write refused in mode off", "off", "delete from analytics.customers", "delete from analytics.customers", "refuse", true},
		{"prod schema write refused", "", "create table analytics.mine (id int)", "create table analytics.mine (id int)", "refuse", true},
		{"drop production schema refused", "", "drop schema analytics cascade", "drop schema analytics cascade", "", true},
		{"drop dev schema allowed", "", "drop schema dbt_fabio cascade", "drop schema dbt_fabio cascade", "", false},
		{"dev write allowed", "", "insert into dbt_fabio.orders select * from dbt_fabio.stg_orders", "insert into dbt_fabio.orders select * from analytics.stg_orders", "keep,defer", false},
		{"introspection literals", "", "select column_name from information_schema.columns where table_name = 'stg_orders' and table_schema = 'dbt_fabio'",
			"select column_name from information_schema.columns where table_name = 'stg_orders' and table_schema = 'analytics'", "keep", false},
		{"introspection of existing dev relation", "", "select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dbt_fabio' and c.relname = 'stg_customers'",
			"select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dbt_fabio' and c.relname = 'stg_customers'", "keep,keep", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, err := deferral.Explain(context.Background(), deferral.ExplainConfig{
				Manifest: m, DevSchema: "dbt_fabio", DevDatabase: "shopdb", Mode: tc.mode, Exists: exists, User: "fabio",
			}, tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			if x.SQL != tc.want {
				t.Errorf("sql:\n got %s\nwant %s", x.SQL, tc.want)
			}
			var acts []string
			for _, r := range x.References {
				if strings.HasPrefix(r.Name, "information_schema") || strings.HasPrefix(r.Name, "pg_") {
					acts = append(acts, "keep")
					continue
				}
				acts = append(acts, r.Action)
				if r.Reason == "" {
					t.Errorf("reference %s has no reason", r.Name)
				}
			}
			if strings.Join(acts, ",") != tc.actions {
				t.Errorf("actions = %v, want %s (%+v)", acts, tc.actions, x.References)
			}
			if (x.Refused != "") != tc.refused {
				t.Errorf("refused = %q", x.Refused)
			}
		})
	}
}

func TestExplainUnqualifiedWithSearchPath(t *testing.T) {
	m := fixture(t, "shopdb")
	x, err := deferral.Explain(context.Background(), deferral.ExplainConfig{
		Manifest: m, DevSchema: "dbt_{user}", User: "fabio", SearchPath: []string{"dbt_fabio", "public"},
	}, "select * from stg_orders")
	if err != nil {
		t.Fatal(err)
	}
	if x.SQL != "select * from analytics.stg_orders" {
		t.Fatalf("got %s (%+v)", x.SQL, x.References)
	}
	if x.DevTarget != "shopdb.dbt_fabio" {
		t.Errorf("dev target %s", x.DevTarget)
	}
	_ = filepath.Join
}

// TestGuardTempTables: dbt's incremental models create unqualified temp tables; with production in public (the
// search_path) they must not be refused, while an unqualified permanent table there is.
func TestGuardTempTables(t *testing.T) {
	m := fixture(t, "shopdb")
	cfg := deferral.ExplainConfig{Manifest: m, DevSchema: "dbt_fabio", DevDatabase: "shopdb", SearchPath: []string{"analytics"}}
	for sql, refused := range map[string]bool{
		`create temporary table "orders__dbt_tmp123" as (select 1)`: false,
		`create temp table orders as select 1`:                      false,
		`create table orders_copy as select 1`:                      true,
		`insert into orders values (1)`:                             true,
	} {
		x, err := deferral.Explain(context.Background(), cfg, sql)
		if err != nil {
			t.Fatal(err)
		}
		if (x.Refused != "") != refused {
			t.Errorf("%s: refused=%q, want %v", sql, x.Refused, refused)
		}
	}
	// "$user" first: the user's schema may not exist, and then the table lands in production.
	cfg.SearchPath, cfg.User = []string{"$user", "analytics"}, "fabio"
	for sql, refused := range map[string]bool{
		`create table scratch (id int)`:      true,
		`create temp table scratch (id int)`: false,
	} {
		x, err := deferral.Explain(context.Background(), cfg, sql)
		if err != nil {
			t.Fatal(err)
		}
		if (x.Refused != "") != refused {
			t.Errorf("%s: refused=%q, want %v", sql, x.Refused, refused)
		}
	}
}
