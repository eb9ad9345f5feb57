package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// The unrendered forms are what dbt 1.11 writes: a dbt_project.yml/YAML template, the repr of a config() call's
// argument (with state_modified_compare_more_unrendered_values), or the rendered production value.
func TestEvalTargetConfig(t *testing.T) {
	env := targetEnv{schema: "dbt_dev", database: "devdb", prodSchema: "analytics", prodDatabase: "warehouse"}
	concat := `Keyword(key='target_schema', value=Concat(nodes=[Getattr(node=Name(name='target', ctx='load'), attr='schema', ctx='load'), Const(value='_snapshots')]))`
	tests := []struct {
		attr, unrendered, rendered string
		want                       string
		how                        targetHow
		unsupported                bool
	}{
		{"schema", "{{ target.schema }}_snapshots", "analytics_snapshots", "dbt_dev_snapshots", targetExact, false},
		{"schema", "{{ target.schema ~ '_snapshots' }}", "analytics_snapshots", "dbt_dev_snapshots", targetExact, false},
		{"schema", `{{- "snap_" ~ target.schema -}}`, "snap_analytics", "snap_dbt_dev", targetExact, false},
		{"schema", concat, "analytics_snapshots", "dbt_dev_snapshots", targetExact, false},
		{"schema", `Keyword(key='target_schema', value=Const(value='snapshots'))`, "snapshots", "snapshots", targetExact, false},
		{"schema", `Keyword(key='target_schema', value=Add(left=Getattr(node=Name(name='target', ctx='load'), attr='schema', ctx='load'), right=Const(value="_s")))`,
			"analytics_s", "dbt_dev_s", targetExact, false},
		{"database", `Keyword(key='target_database', value=Getattr(node=Name(name='target', ctx='load'), attr='database', ctx='load'))`,
			"warehouse", "devdb", targetExact, false},
		{"schema", "snapshots", "snapshots", "snapshots", targetLiteral, false},
		{"schema", "", "analytics_snapshots", "dbt_dev_snapshots", targetInferred, false},
		{"schema", "analytics_snapshots", "analytics_snapshots", "dbt_dev_snapshots", targetInferred, false},
		{"database", "warehouse", "warehouse", "devdb", targetInferred, false},
		{"database", "warehouse_raw", "warehouse_raw", "warehouse_raw", targetLiteral, false},
		{"schema", "{{ target.name }}_snap", "prod_snap", "", 0, true},
		{"schema", "{% if target.name == 'prod' %}a{% else %}b{% endif %}", "a", "", 0, true},
		{"schema", "{{ env_var('SNAP_SCHEMA') }}", "x", "", 0, true},
		{"schema", `Keyword(key='target_schema', value=Call(node=Name(name='env_var', ctx='load'), args=[Const(value='X')], kwargs=[], dyn_args=None, dyn_kwargs=None))`,
			"x", "", 0, true},
		{"schema", `Keyword(key='target_schema', value=Concat(nodes=[Const(value='a'`, "x", "", 0, true},
		{"schema", "{{ target.schema ", "x", "", 0, true},
	}
	for _, tt := range tests {
		got, how, err := evalTargetConfig(tt.attr, tt.unrendered, tt.rendered, env)
		if tt.unsupported {
			if !errors.Is(err, errUnsupportedExpr) {
				t.Errorf("%q: want unsupported, got %q, %v", tt.unrendered, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || how != tt.how {
			t.Errorf("%q: got %q (how %d), %v; want %q (how %d)", tt.unrendered, got, how, err, tt.want, tt.how)
		}
	}
}

// FuzzEvalTargetConfig: any unrendered text evaluates or is refused with errUnsupportedExpr; it never panics.
func FuzzEvalTargetConfig(f *testing.F) {
	for _, s := range []string{"{{ target.schema }}_x", `Keyword(key='k', value=Concat(nodes=[Const(value='a\'b')]))`, "plain", "{{", "Keyword("} {
		f.Add(s)
	}
	env := targetEnv{schema: "d", database: "db", prodSchema: "p", prodDatabase: "pdb"}
	f.Fuzz(func(t *testing.T, s string) {
		if _, _, err := evalTargetConfig("schema", s, "p_x", env); err != nil && !errors.Is(err, errUnsupportedExpr) {
			t.Fatalf("%q: error %v is not errUnsupportedExpr", s, err)
		}
	})
}

// withSnapshotTarget returns manifest_v11 with its snapshot built in production at schema prodSchema by a
// target_schema config whose unrendered form is unrendered.
func withSnapshotTarget(t *testing.T, prodSchema, unrendered string) *Manifest {
	t.Helper()
	data, err := os.ReadFile("testdata/manifest_v11.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc["nodes"].(map[string]any)["snapshot.shop.orders_snapshot"].(map[string]any)
	n["schema"] = prodSchema
	n["relation_name"] = `"warehouse"."` + prodSchema + `"."orders_snapshot"`
	n["config"].(map[string]any)["target_schema"] = prodSchema
	n["unrendered_config"] = map[string]any{"target_schema": unrendered, "unique_key": "id"}
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

// The snapshot row of issue "No silent misses": target_schema=target.schema ~ '_snapshots' maps the dev snapshot
// to the dev target's schema, and a target_schema deferproxy cannot evaluate is a warning, not a silent miss.
func TestDevMapSnapshotTargetSchema(t *testing.T) {
	dev := DevTarget{Database: "warehouse", Schema: "dbt_dev"}
	for _, unrendered := range []string{
		"{{ target.schema ~ '_snapshots' }}",
		`Keyword(key='target_schema', value=Concat(nodes=[Getattr(node=Name(name='target', ctx='load'), attr='schema', ctx='load'), Const(value='_snapshots')]))`,
		"analytics_snapshots", // only the rendered value: inferred from production's target schema
	} {
		d := NewDevMap(DevMapConfig{Prod: withSnapshotTarget(t, "analytics_snapshots", unrendered), Target: dev})
		m, ok := d.Lookup(Relation{"warehouse", "dbt_dev_snapshots", "orders_snapshot"})
		if !ok || m.Prod == nil || m.Prod.Relation.Schema != "analytics_snapshots" {
			t.Errorf("%s: dev snapshot = %+v, %v; explain: %s", unrendered, m, ok, d.Explain())
		}
		if len(d.Warnings()) != 0 {
			t.Errorf("%s: warnings %q", unrendered, d.Warnings())
		}
		if !slices.Contains(d.DevSchemas(), SchemaName{"warehouse", "dbt_dev_snapshots"}) {
			t.Errorf("%s: dev schemas %v lack the snapshots' dev schema", unrendered, d.DevSchemas())
		}
	}
	d := NewDevMap(DevMapConfig{Prod: withSnapshotTarget(t, "snap_prod", "{{ 'snap_' ~ target.name }}"), Target: dev})
	if w := d.Warnings(); len(w) != 1 || !strings.Contains(w[0], "snapshot.shop.orders_snapshot") ||
		!strings.Contains(w[0], "dev_manifest") || !strings.Contains(d.Explain(), "WARNING: 1 snapshots") {
		t.Errorf("unsupported target_schema: warnings %q; explain %s", w, d.Explain())
	}
	if b := d.BlindSpots(); len(b) != 1 || b[0].Kind != "snapshot_target_schema" || b[0].Count != 1 ||
		!slices.Equal(b[0].Nodes, []string{"snapshot.shop.orders_snapshot"}) || b[0].Text != d.Warnings()[0] {
		t.Errorf("blind spots %+v", b)
	}
	// With a schema map for the snapshots' schema, the map wins and the other nodes stay derived.
	d = NewDevMap(DevMapConfig{Prod: withSnapshotTarget(t, "snap_prod", "{{ 'snap_' ~ target.name }}"), Target: dev,
		SchemaMap: map[string]string{"snap_dev": "snap_prod"}})
	if _, ok := d.Lookup(Relation{"warehouse", "snap_dev", "orders_snapshot"}); !ok {
		t.Errorf("schema map for the snapshot: %s", d.Explain())
	}
	if _, ok := d.Lookup(Relation{"warehouse", "dbt_dev", "stg_orders"}); !ok {
		t.Errorf("the schema map replaced the derivation: %s", d.Explain())
	}
	if len(d.Warnings()) != 0 {
		t.Errorf("a snapshot the schema map maps is still warned about: %q", d.Warnings())
	}
}
