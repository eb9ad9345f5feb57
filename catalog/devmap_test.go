package catalog

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// withMacro returns the fixture manifest with a project macro added (the override cases of SPEC §3.3).
func withMacro(t *testing.T, file, id, sql string) *Manifest {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["macros"].(map[string]any)[id] = map[string]any{"unique_id": id, "name": id[strings.LastIndexByte(id, '.')+1:],
		"package_name": "shop", "resource_type": "macro", "macro_sql": sql}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadManifest(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const (
	forEnvCall = `{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ generate_schema_name_for_env(custom_schema_name, node) }}
{%- endmacro %}`
	forEnvCopy = `{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- set default_schema = target.schema -%}
  {%- if target.name == 'prod' and custom_schema_name is not none -%}
    {{ custom_schema_name | trim }}
  {%- else -%}
    {{ default_schema }}
  {%- endif -%}
{%- endmacro %}`
	defaultCopy = `{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}`
	customSchema = `{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name }}_{{ target.name }}{%- endif -%}
{%- endmacro %}`
	customAlias = `{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {{ node.name }}_{{ target.name }}
{%- endmacro %}`
)

func TestDevMapDerivation(t *testing.T) {
	alice := DevTarget{Database: "warehouse", Schema: ExpandSchemaTemplate("dbt_{user}", "alice")}
	base := mustLoad(t, "testdata/manifest_v11.json")
	type want struct {
		dev string // schema.identifier in warehouse; "" = not mapped
		id  string
	}
	defaultRule := []want{
		{"dbt_alice.stg_orders", "model.shop.stg_orders"},
		{"dbt_alice_marts.orders", "model.shop.orders"},
		{"dbt_alice_marts.revenue", "model.shop.fct_revenue"},
		{"dbt_alice.customers_v2", "model.shop.customers.v2"},
		{"dbt_alice.customers_v1", "model.shop.customers.v1"},
		{"dbt_alice.Mixed_Case", "model.shop.Mixed_Case"},
		{"dbt_alice.raw_customers", "seed.shop.raw_customers"},
		{"snapshots.orders_snapshot", "snapshot.shop.orders_snapshot"}, // legacy target_schema: verbatim
		{"", "model.shop.eph_orders"},
		{"", "source.shop.raw.orders"},
		{"", "test.shop.not_null_orders_id"},
	}
	forEnv := []want{
		{"dbt_alice.stg_orders", "model.shop.stg_orders"},
		{"dbt_alice.orders", "model.shop.orders"},
		{"dbt_alice.revenue", "model.shop.fct_revenue"},
		{"dbt_alice.customers_v2", "model.shop.customers.v2"},
		{"snapshots.orders_snapshot", "snapshot.shop.orders_snapshot"},
	}
	tests := []struct {
		name     string
		m        *Manifest
		target   DevTarget
		kind     MappingKind
		explain  []string
		mappings []want
		schemas  string
	}{
		{"default rules", base, alice, MapDerived, []string{"dbt's default generate_schema_name", "warehouse.dbt_alice"},
			defaultRule, "warehouse.dbt_alice warehouse.dbt_alice_marts"},
		{"override equal to dbt's default", withMacro(t, "testdata/manifest_v11.json", "macro.shop.generate_schema_name", defaultCopy),
			alice, MapDerived, []string{"default"}, defaultRule, ""},
		{"generate_schema_name_for_env called", withMacro(t, "testdata/manifest_v11.json", "macro.shop.generate_schema_name", forEnvCall),
			alice, MapDerived, []string{"generate_schema_name_for_env", "macro.shop.generate_schema_name"}, forEnv, "warehouse.dbt_alice"},
		{"generate_schema_name_for_env copied", withMacro(t, "testdata/manifest_v9.json", "macro.shop.generate_schema_name", forEnvCopy),
			alice, MapDerived, []string{"generate_schema_name_for_env"}, forEnv, "warehouse.dbt_alice"},
		{"dispatched default__ override for_env", withMacro(t, "testdata/manifest_v10.json", "macro.shop.default__generate_schema_name", forEnvCall),
			alice, MapDerived, []string{"macro.shop.default__generate_schema_name"}, forEnv, ""},
		{"custom schema override refused", withMacro(t, "testdata/manifest_v11.json", "macro.shop.generate_schema_name", customSchema),
			alice, MapNone, []string{"macro.shop.generate_schema_name", "dev_manifest", "schema_map"}, []want{{"", "model.shop.stg_orders"}}, ""},
		{"custom alias override refused", withMacro(t, "testdata/manifest_v11.json", "macro.shop.generate_alias_name", customAlias),
			alice, MapNone, []string{"generate_alias_name", "dev_manifest"}, []want{{"", "model.shop.stg_orders"}}, ""},
		{"package macro is not an override", withMacro(t, "testdata/manifest_v11.json", "macro.other_pkg.generate_schema_name", customSchema),
			alice, MapDerived, nil, defaultRule, ""},
		{"no dev schema", base, DevTarget{Database: "warehouse"}, MapNone, []string{"dev_schema"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDevMap(DevMapConfig{Prod: tt.m, Target: tt.target})
			if d.Kind() != tt.kind {
				t.Fatalf("Kind = %v (%s), want %v", d.Kind(), d.Explain(), tt.kind)
			}
			for _, s := range tt.explain {
				if !strings.Contains(d.Explain(), s) {
					t.Errorf("Explain %q lacks %q", d.Explain(), s)
				}
			}
			for _, w := range tt.mappings {
				rel, ok := d.DevRelation(w.id)
				if w.dev == "" {
					if ok {
						t.Errorf("%s mapped to %v, want unmapped", w.id, rel)
					}
					continue
				}
				schema, ident, _ := strings.Cut(w.dev, ".")
				wantRel := Relation{"warehouse", schema, ident}
				if !ok || rel != wantRel {
					t.Errorf("DevRelation(%s) = %v, %v; want %v", w.id, rel, ok, wantRel)
				}
				m, ok := d.Lookup(wantRel)
				if !ok || m.UniqueID != w.id || m.Prod == nil || m.Prod.UniqueID != w.id {
					t.Errorf("Lookup(%v) = %+v, %v", wantRel, m, ok)
				}
			}
			if tt.schemas != "" {
				var got []string
				for _, s := range d.DevSchemas() {
					got = append(got, s.String())
				}
				if strings.Join(got, " ") != tt.schemas {
					t.Errorf("DevSchemas = %v, want %s", got, tt.schemas)
				}
			}
		})
	}
}

func TestDevMapWithoutDevDatabase(t *testing.T) {
	d := NewDevMap(DevMapConfig{Prod: mustLoad(t, "testdata/manifest_v11.json"), Target: DevTarget{Schema: "dbt_bob"}})
	// The dev database is unknown: the entry matches the session's database, whatever it is.
	m, ok := d.Lookup(Relation{"dev_db", "dbt_bob", "stg_orders"})
	if !ok || m.UniqueID != "model.shop.stg_orders" {
		t.Fatalf("Lookup = %+v, %v", m, ok)
	}
	if _, ok := d.Lookup(Relation{"dev_db", "dbt_alice", "stg_orders"}); ok {
		t.Fatal("another developer's schema matched")
	}
}

func TestDevMapPrecedence(t *testing.T) {
	prod := mustLoad(t, "testdata/manifest_v11.json")
	dev := mustLoad(t, "testdata/dev_manifest.json")
	schemaMap := map[string]string{"dbt_carol": "analytics", "dbt_carol_marts": "analytics_marts"}
	target := DevTarget{Database: "warehouse", Schema: "dbt_dave"}

	t.Run("dev manifest first", func(t *testing.T) {
		d := NewDevMap(DevMapConfig{Prod: prod, Dev: dev, SchemaMap: schemaMap, Target: target})
		if d.Kind() != MapDevManifest || !strings.Contains(d.Explain(), "schema map is not used") ||
			!strings.Contains(d.Explain(), "1 new in dev") {
			t.Fatalf("Kind %v: %s", d.Kind(), d.Explain())
		}
		m, ok := d.Lookup(Relation{"warehouse", "dbt_alice_marts", "revenue"})
		if !ok || m.Prod == nil || m.Prod.UniqueID != "model.shop.fct_revenue" || m.Prod.Relation.Schema != "analytics_marts" {
			t.Errorf("Lookup(revenue) = %+v", m)
		}
		m, ok = d.Lookup(Relation{"warehouse", "dbt_alice", "new_in_dev"})
		if !ok || m.UniqueID != "model.shop.new_in_dev" || m.Prod != nil {
			t.Errorf("new in dev: %+v %v", m, ok)
		}
		for _, rel := range []Relation{{"warehouse", "dbt_carol", "stg_orders"}, {"warehouse", "dbt_dave", "stg_orders"}} {
			if _, ok := d.Lookup(rel); ok {
				t.Errorf("%v mapped although the dev manifest is in use", rel)
			}
		}
	})
	t.Run("schema map adds to derivation", func(t *testing.T) {
		// Only the marts are mapped: the other nodes keep their derived dev relations.
		d := NewDevMap(DevMapConfig{Prod: prod, SchemaMap: map[string]string{"dbt_carol_marts": "analytics_marts"}, Target: target})
		if d.Kind() != MapDerived || !strings.Contains(d.Explain(), "dbt_carol_marts→analytics_marts") ||
			!strings.Contains(d.Explain(), "override their derived dev relations") {
			t.Fatalf("Kind %v: %s", d.Kind(), d.Explain())
		}
		for rel, want := range map[Relation]string{
			{"warehouse", "dbt_dave", "stg_orders"}:       "model.shop.stg_orders", // derived, untouched by the map
			{"warehouse", "dbt_carol_marts", "revenue"}:   "model.shop.fct_revenue",
			{"warehouse", "dbt_dave_marts", "revenue"}:    "", // overridden by the map
			{"warehouse", "dbt_carol", "stg_orders"}:      "",
			{"warehouse", "snapshots", "orders_snapshot"}: "snapshot.shop.orders_snapshot", // literal target_schema
		} {
			m, ok := d.Lookup(rel)
			if want == "" && ok || want != "" && m.UniqueID != want {
				t.Errorf("Lookup(%v) = %+v, %v; want %q", rel, m, ok, want)
			}
		}
	})
	t.Run("schema map alone when derivation is refused", func(t *testing.T) {
		custom := withMacro(t, "testdata/manifest_v11.json", "macro.shop.generate_schema_name", customSchema)
		d := NewDevMap(DevMapConfig{Prod: custom, SchemaMap: schemaMap, Target: target})
		if d.Kind() != MapSchemaMap || !strings.Contains(d.Explain(), "dbt_carol→analytics") ||
			!strings.Contains(d.Explain(), "cannot derive") {
			t.Fatalf("Kind %v: %s", d.Kind(), d.Explain())
		}
		if _, ok := d.Lookup(Relation{"warehouse", "dbt_carol", "stg_orders"}); !ok {
			t.Error("mapped relation not found")
		}
	})
	t.Run("schema map over every schema", func(t *testing.T) {
		d := NewDevMap(DevMapConfig{Prod: prod, SchemaMap: schemaMap, Target: target})
		if d.Kind() != MapDerived || !strings.Contains(d.Explain(), "dbt_carol→analytics") {
			t.Fatalf("Kind %v: %s", d.Kind(), d.Explain())
		}
		for rel, want := range map[Relation]string{
			{"anydb", "dbt_carol", "stg_orders"}:          "model.shop.stg_orders",
			{"anydb", "dbt_carol_marts", "revenue"}:       "model.shop.fct_revenue",
			{"anydb", "dbt_carol", "customers_v2"}:        "model.shop.customers.v2",
			{"warehouse", "dbt_carol", "raw_customers"}:   "seed.shop.raw_customers",
			{"warehouse", "dbt_carol_marts", "missing"}:   "",
			{"warehouse", "dbt_dave", "stg_orders"}:       "",
			{"warehouse", "dbt_carol", "orders_v1"}:       "", // a source's identifier: sources are never mapped
			{"warehouse", "dbt_carol", "orders_snapshot"}: "",
			{"warehouse", "dbt_dave_marts", "revenue"}:    "", // every mapped node's derived relation is overridden
		} {
			m, ok := d.Lookup(rel)
			if want == "" && ok || want != "" && m.UniqueID != want {
				t.Errorf("Lookup(%v) = %+v, %v; want %q", rel, m, ok, want)
			}
		}
	})
	t.Run("schema map per database", func(t *testing.T) {
		d := NewDevMap(DevMapConfig{Prod: prod, SchemaMap: map[string]string{"dev.DBT_Erin": "warehouse.analytics"}})
		if _, ok := d.Lookup(Relation{"dev", "dbt_erin", "stg_orders"}); !ok {
			t.Error("database-qualified, case-folded schema map entry did not match")
		}
		if _, ok := d.Lookup(Relation{"other", "dbt_erin", "stg_orders"}); ok {
			t.Error("database-qualified entry matched another database")
		}
	})
	t.Run("bad schema map", func(t *testing.T) {
		d := NewDevMap(DevMapConfig{Prod: prod, SchemaMap: map[string]string{"a.b.c": "x"}})
		if d.Kind() != MapNone || !strings.Contains(d.Explain(), "does not parse") {
			t.Errorf("Kind %v: %s", d.Kind(), d.Explain())
		}
	})
	t.Run("derivation last", func(t *testing.T) {
		d := NewDevMap(DevMapConfig{Prod: prod, Target: target})
		if d.Kind() != MapDerived {
			t.Fatalf("Kind %v: %s", d.Kind(), d.Explain())
		}
		if _, ok := d.Lookup(Relation{"warehouse", "dbt_dave", "stg_orders"}); !ok {
			t.Error("derived relation not found")
		}
	})
	t.Run("no production manifest", func(t *testing.T) {
		d := NewDevMap(DevMapConfig{Dev: dev, Target: target})
		if d.Kind() != MapNone {
			t.Errorf("Kind %v", d.Kind())
		}
	})
}

// Derivation on the corpus manifests: the derived dev relation must follow dbt's naming of the production one.
func TestDevMapCorpus(t *testing.T) {
	tests := []struct {
		file, id string
		target   DevTarget
		want     Relation
	}{
		{jaffleManifest, "model.altered_jaffle_shop.customers", DevTarget{"p", "dbt_alice"}, Relation{"p", "dbt_alice", "customers"}},
		{stripeManifest, "model.stripe.stripe__balance_transactions", DevTarget{"postgres", "dbt_alice"},
			Relation{"postgres", "dbt_alice_stripe_dev", "stripe__balance_transactions"}},
		{stripeManifest, "seed.stripe_integration_tests.account_data", DevTarget{"postgres", "dbt_alice"},
			Relation{"postgres", "dbt_alice", "account_data"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			d := NewDevMap(DevMapConfig{Prod: mustLoad(t, corpusPath(t, tt.file)), Target: tt.target})
			if d.Kind() != MapDerived {
				t.Fatalf("Kind %v: %s", d.Kind(), d.Explain())
			}
			if got, ok := d.DevRelation(tt.id); !ok || got != tt.want {
				t.Errorf("DevRelation = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMacroBody(t *testing.T) {
	a := macroBody(forEnvCopy)
	b := macroBody(builtinForEnv)
	if a != b || a == "" {
		t.Errorf("layout-insensitive comparison failed:\n%s\n%s", a, b)
	}
	if macroBody(customSchema) == macroBody(defaultCopy) {
		t.Error("different macros compare equal")
	}
}
