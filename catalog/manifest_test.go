package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestLoadRealManifests(t *testing.T) {
	tests := []struct {
		file                         string
		dbtVersion, project, schemaV string
		nodes                        int // nodes + sources kept
		node                         string
		wantRel                      Relation
		wantType, wantMat            string
		wantDeferrable               bool
		wantDeps                     []string
		prodSchemas                  []SchemaName
	}{
		{
			file: stripeManifest, dbtVersion: "1.12.2", project: "stripe_integration_tests", schemaV: "v12",
			nodes: 142, node: "model.stripe.stripe__balance_transactions",
			wantRel:  Relation{"postgres", "public_stripe_dev", "stripe__balance_transactions"},
			wantType: "model", wantMat: "table", wantDeferrable: true,
			prodSchemas: []SchemaName{{"postgres", "public"}, {"postgres", "public_stripe_dev"}},
		},
		{
			file: stripeManifest, dbtVersion: "1.12.2", project: "stripe_integration_tests", schemaV: "v12",
			nodes: 142, node: "seed.stripe_integration_tests.account_data",
			wantRel:  Relation{"postgres", "public", "account_data"},
			wantType: "seed", wantMat: "seed", wantDeferrable: true,
		},
		{
			file: jaffleManifest, dbtVersion: "1.11.2", project: "altered_jaffle_shop", schemaV: "v12",
			nodes: 40, node: "model.altered_jaffle_shop.customers",
			wantRel:  Relation{"p", "public", "customers"},
			wantType: "model", wantMat: "table", wantDeferrable: true,
			wantDeps: []string{"model.altered_jaffle_shop.stg_customers", "model.altered_jaffle_shop.stg_orders",
				"model.altered_jaffle_shop.stg_payments"},
			prodSchemas: []SchemaName{{"p", "public"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			m := mustLoad(t, corpusPath(t, tt.file))
			md := m.Metadata()
			if md.DbtVersion != tt.dbtVersion || md.ProjectName != tt.project || md.AdapterType != "postgres" ||
				!strings.HasSuffix(md.DbtSchemaVersion, tt.schemaV+".json") || md.SchemaVersion != 12 {
				t.Errorf("metadata = %+v", md)
			}
			if md.InvocationID == "" || md.GeneratedTime.IsZero() {
				t.Errorf("metadata lacks invocation id or generated_at: %+v", md)
			}
			if m.Len() != tt.nodes {
				t.Errorf("Len = %d, want %d", m.Len(), tt.nodes)
			}
			n, ok := m.Node(tt.node)
			if !ok {
				t.Fatalf("node %s not found", tt.node)
			}
			if n.Relation != tt.wantRel || n.ResourceType != tt.wantType || n.Materialized != tt.wantMat {
				t.Errorf("node = %+v", n)
			}
			if got := m.Deferrable(n); got != tt.wantDeferrable {
				t.Errorf("Deferrable = %v", got)
			}
			if tt.wantDeps != nil && strings.Join(n.DependsOn, ",") != strings.Join(tt.wantDeps, ",") {
				t.Errorf("DependsOn = %v", n.DependsOn)
			}
			if got, ok := m.NodeByRelation(tt.wantRel); !ok || got != n {
				t.Errorf("NodeByRelation(%v) = %v", tt.wantRel, got)
			}
			if tt.prodSchemas != nil {
				got := m.ProdSchemas()
				if len(got) != len(tt.prodSchemas) {
					t.Fatalf("ProdSchemas = %v, want %v", got, tt.prodSchemas)
				}
				for i := range got {
					if got[i] != tt.prodSchemas[i] {
						t.Errorf("ProdSchemas = %v, want %v", got, tt.prodSchemas)
					}
				}
			}
			if m.SchemaNameOverride() != nil || m.AliasNameOverride() != nil {
				t.Errorf("unexpected macro override: %v %v", m.SchemaNameOverride(), m.AliasNameOverride())
			}
		})
	}
}

// TestRealManifestAgainstPython checks every kept node against the same file read whole by encoding/json into maps
// (an independent reading), so that the streaming loader drops and mangles nothing.
func TestRealManifestAgainstFullDecode(t *testing.T) {
	for _, file := range []string{stripeManifest, jaffleManifest} {
		t.Run(file, func(t *testing.T) {
			path := corpusPath(t, file)
			m := mustLoad(t, path)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var full struct {
				Nodes   map[string]map[string]any `json:"nodes"`
				Sources map[string]map[string]any `json:"sources"`
			}
			if err := json.Unmarshal(raw, &full); err != nil {
				t.Fatal(err)
			}
			if got, want := m.Len(), len(full.Nodes)+len(full.Sources); got != want {
				t.Fatalf("Len = %d, want %d", got, want)
			}
			ephemeral, deferrable := 0, 0
			for _, section := range []map[string]map[string]any{full.Nodes, full.Sources} {
				for id, fn := range section {
					n, ok := m.Node(id)
					if !ok {
						t.Fatalf("node %s missing", id)
					}
					cfg, _ := fn["config"].(map[string]any)
					rel, _ := fn["relation_name"].(string)
					if n.ResourceType != fn["resource_type"] || n.Name != fn["name"] || n.RelationName != rel ||
						n.Schema != fn["schema"] || n.Materialized != str(cfg["materialized"]) ||
						n.ConfigSchema != str(cfg["schema"]) || n.ConfigAlias != str(cfg["alias"]) {
						t.Errorf("%s: kept %+v, file has %v", id, n, fn)
					}
					if fn["resource_type"] != "source" && n.Alias != fn["alias"] {
						t.Errorf("%s: alias %q, file %v", id, n.Alias, fn["alias"])
					}
					if fn["resource_type"] == "source" && n.Alias != fn["identifier"] {
						t.Errorf("%s: identifier %q, file %v", id, n.Alias, fn["identifier"])
					}
					if rel != "" {
						want := `"` + n.Relation.Database + `"."` + n.Relation.Schema + `"."` + n.Relation.Identifier + `"`
						if want != rel {
							t.Errorf("%s: Relation %v from %s", id, n.Relation, rel)
						}
					}
					if n.Materialized == "ephemeral" {
						ephemeral++
						if m.Deferrable(n) {
							t.Errorf("%s: ephemeral node is deferrable", id)
						}
					}
					if m.Deferrable(n) {
						deferrable++
					}
				}
			}
			if deferrable == 0 || ephemeral == 0 {
				t.Errorf("corpus should hold deferrable (%d) and ephemeral (%d) nodes", deferrable, ephemeral)
			}
		})
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Stripe's integration tests read seeds through sources: a seed and a source share one relation. The seed (the
// deferrable node) must own the relation index.
func TestSharedRelationPrefersDeferrable(t *testing.T) {
	m := mustLoad(t, corpusPath(t, stripeManifest))
	rel := Relation{"postgres", "public", "balance_transaction_data"}
	n, ok := m.NodeByRelation(rel)
	if !ok || n.ResourceType != "seed" {
		t.Fatalf("NodeByRelation(%v) = %+v", rel, n)
	}
	src, ok := m.Node("source.stripe.stripe.balance_transaction")
	if !ok || src.Relation != rel || m.Deferrable(src) {
		t.Fatalf("source = %+v", src)
	}
}

func TestLoadFixtureVersions(t *testing.T) {
	for _, v := range []struct {
		file string
		ver  int
		dbt  string
	}{{"manifest_v9.json", 9, "1.5.11"}, {"manifest_v10.json", 10, "1.6.18"}, {"manifest_v11.json", 11, "1.7.19"}} {
		t.Run(v.file, func(t *testing.T) {
			m := mustLoad(t, "testdata/"+v.file)
			md := m.Metadata()
			if md.SchemaVersion != v.ver || md.DbtVersion != v.dbt || md.ProjectName != "shop" ||
				md.Env["DBT_ENV_CUSTOM_ENV_run"] != "nightly" {
				t.Errorf("metadata = %+v", md)
			}
			cases := []struct {
				id         string
				rel        Relation
				deferrable bool
			}{
				{"model.shop.stg_orders", Relation{"warehouse", "analytics", "stg_orders"}, true},
				{"model.shop.orders", Relation{"warehouse", "analytics_marts", "orders"}, true},
				{"model.shop.fct_revenue", Relation{"warehouse", "analytics_marts", "revenue"}, true},
				{"model.shop.customers.v2", Relation{"warehouse", "analytics", "customers_v2"}, true},
				{"model.shop.Mixed_Case", Relation{"warehouse", "analytics", "Mixed_Case"}, true},
				{"seed.shop.raw_customers", Relation{"warehouse", "analytics", "raw_customers"}, true},
				{"snapshot.shop.orders_snapshot", Relation{"warehouse", "snapshots", "orders_snapshot"}, true},
				{"model.shop.eph_orders", Relation{}, false},
				{"test.shop.not_null_orders_id", Relation{}, false},
				{"source.shop.raw.orders", Relation{"warehouse", "raw", "orders_v1"}, false},
			}
			for _, c := range cases {
				n, ok := m.Node(c.id)
				if !ok {
					t.Fatalf("%s missing", c.id)
				}
				if n.Relation != c.rel || m.Deferrable(n) != c.deferrable {
					t.Errorf("%s: relation %v deferrable %v", c.id, n.Relation, m.Deferrable(n))
				}
			}
			n, _ := m.Node("model.shop.customers.v2")
			if n.Version != "2" || DeriveAlias(n) != "customers_v2" {
				t.Errorf("versioned model: version %q alias %q", n.Version, DeriveAlias(n))
			}
			n, _ = m.Node("snapshot.shop.orders_snapshot")
			if n.TargetSchema != "snapshots" {
				t.Errorf("snapshot target_schema = %q", n.TargetSchema)
			}
		})
	}
}

func TestLoadBroken(t *testing.T) {
	good, err := os.ReadFile("testdata/manifest_v11.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data string
		want       string
		is         error
	}{
		{"empty", "", "not a JSON manifest", nil},
		{"not json", "this is not json", "not a JSON manifest", nil},
		{"array", "[1, 2]", "not a JSON object", nil},
		{"truncated middle", string(good[:len(good)/2]), "", nil},
		{"truncated end", string(good[:len(good)-1]), "truncated", nil},
		{"trailing garbage", string(good) + "{}", "after its closing brace", nil},
		{"no metadata", `{"nodes": {}}`, "no metadata", nil},
		{"no nodes", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}}`, "no nodes", nil},
		{"v8", strings.Replace(string(good), "manifest/v11.json", "manifest/v8.json", 1), "v8", ErrUnsupportedSchema},
		{"v13", strings.Replace(string(good), "manifest/v11.json", "manifest/v13.json", 1), "v13", ErrUnsupportedSchema},
		{"catalog not manifest", strings.Replace(string(good), "manifest/v11.json", "catalog/v1.json", 1), "not a manifest schema", ErrUnsupportedSchema},
		{"missing schema version", `{"metadata": {"dbt_version": "1.8.0"}, "nodes": {}}`, "missing", ErrUnsupportedSchema},
		{"node not object", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"a": 1}}`, "read nodes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := LoadManifest(strings.NewReader(tt.data))
			if err == nil || m != nil {
				t.Fatalf("LoadManifest = %v, %v; want an error", m, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// Every prefix of a manifest is an error, never a smaller manifest.
func TestLoadEveryTruncation(t *testing.T) {
	good, err := os.ReadFile("testdata/manifest_v9.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(good)-1; i += 97 {
		if m, err := LoadManifest(bytes.NewReader(good[:i])); err == nil {
			t.Fatalf("prefix of %d bytes loaded: %d nodes", i, m.Len())
		}
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{`"postgres"."public"."x"`, []string{"postgres", "public", "x"}, false},
		{`Analytics.Prod.Orders`, []string{"analytics", "prod", "orders"}, false},
		{`"My ""Q"" db".s.T`, []string{`My "Q" db`, "s", "t"}, false},
		{`a..b`, nil, true},
		{`"unterminated`, nil, true},
		{`a."b"c`, nil, true},
		{``, nil, true},
	}
	for _, tt := range tests {
		got, err := SplitName(0, tt.in)
		if (err != nil) != tt.err || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("SplitName(%q) = %q, %v", tt.in, got, err)
		}
	}
	if r, err := ParseRelation(0, "dbt_alice.orders", "dev"); err != nil || r != (Relation{"dev", "dbt_alice", "orders"}) {
		t.Errorf("ParseRelation = %v, %v", r, err)
	}
	if _, err := ParseRelation(0, "orders", "dev"); err == nil {
		t.Error("ParseRelation of a 1-part name should fail")
	}
	if got := (Relation{"p", "Dev Schema", "t"}).String(); got != `p."Dev Schema".t` {
		t.Errorf("String = %s", got)
	}
}

func BenchmarkLoadStripe(b *testing.B) {
	data, err := os.ReadFile(corpusPath(b, stripeManifest))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadManifest(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzLoadManifest: any input either fails with an error or yields a consistent snapshot; it never panics.
func FuzzLoadManifest(f *testing.F) {
	f.Add(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "project_name": "p"}, ` +
		`"nodes": {"model.p.a": {"unique_id": "model.p.a", "resource_type": "model", "name": "a", "alias": "a", ` +
		`"database": "d", "schema": "s", "relation_name": "\"d\".\"s\".\"a\"", "config": {"materialized": "view"}, ` +
		`"depends_on": {"nodes": []}, "version": 2}}, "sources": {}, "macros": {"macro.p.generate_schema_name": ` +
		`{"macro_sql": "{% macro generate_schema_name(c, n) %}{{ c }}{% endmacro %}"}}, "child_map": {"a": ["b"]}}`)
	f.Add(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v9.json"}, "nodes": {}}`)
	f.Add(`{"nodes": {"x": {"relation_name": "a.b"}}, "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v10.json"}}`)
	f.Fuzz(func(t *testing.T, data string) {
		m, err := LoadManifest(strings.NewReader(data))
		if err != nil {
			if m != nil {
				t.Fatal("a manifest returned with an error")
			}
			return
		}
		if v := m.Metadata().SchemaVersion; v < MinSchemaVersion || v > MaxSchemaVersion {
			t.Fatalf("schema version %d loaded", v)
		}
		m.Nodes(func(n *Node) bool {
			if got, ok := m.Node(n.UniqueID); !ok || got != n {
				t.Fatalf("node %q not indexed by unique_id", n.UniqueID)
			}
			if n.Relation.Identifier != "" {
				if _, ok := m.NodeByRelation(n.Relation); !ok {
					t.Fatalf("relation %v of %q not indexed", n.Relation, n.UniqueID)
				}
				if !m.IsProdSchema(SchemaName{n.Relation.Database, n.Relation.Schema}) {
					t.Fatalf("schema of %v not a production schema", n.Relation)
				}
			}
			return true
		})
		_ = NewDevMap(DevMapConfig{Prod: m, Target: DevTarget{"d", "dev"}})
	})
}
