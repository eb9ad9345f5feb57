package catalog

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// withoutNode loads a manifest with one node taken out (a model removed on the branch).
func withoutNode(t *testing.T, file, id string) *Manifest {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	nodes := doc["nodes"].(map[string]any)
	if _, ok := nodes[id]; !ok {
		t.Fatalf("%s has no node %s", file, id)
	}
	delete(nodes, id)
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

// TestDevMapBlindSpots: each mapping names what it cannot see, with counts.
func TestDevMapBlindSpots(t *testing.T) {
	prod := mustLoad(t, "testdata/manifest_v11.json")
	dev := withoutNode(t, "testdata/dev_manifest.json", "model.shop.stg_orders")
	custom := withMacro(t, "testdata/manifest_v11.json", "macro.shop.generate_schema_name", customSchema)
	target := DevTarget{Database: "warehouse", Schema: "dbt_dave"}
	deferrable := 0
	prod.Nodes(func(n *Node) bool {
		if prod.Deferrable(n) {
			deferrable++
		}
		return true
	})
	for _, tc := range []struct {
		name string
		cfg  DevMapConfig
		want map[string]int // kind → count
		text string         // a substring of the first spot's text
	}{
		{"derived sees everything", DevMapConfig{Prod: prod, Target: target}, map[string]int{}, ""},
		{"custom generate_schema_name", DevMapConfig{Prod: custom, Target: target},
			map[string]int{"generate_schema_name": deferrable}, "overrides generate_schema_name"},
		{"custom generate_schema_name, a schema map for part", DevMapConfig{Prod: custom, Target: target,
			SchemaMap: map[string]string{"dbt_carol": "analytics"}}, map[string]int{"generate_schema_name": -1}, "cannot derive"},
		{"dev manifest without some production nodes", DevMapConfig{Prod: prod, Dev: dev, Target: target},
			map[string]int{"unmapped_nodes": 1}, "1 deferrable production nodes have no dev relation in this mapping (the dev manifest does not have them"},
		{"no dev schema", DevMapConfig{Prod: prod}, map[string]int{"dev_schema": deferrable}, "no dev schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spots := NewDevMap(tc.cfg).BlindSpots()
			got := map[string]int{}
			for _, s := range spots {
				got[s.Kind] = s.Count
				if s.Count <= 0 || s.Text == "" || len(s.Nodes) > maxBlindNodes {
					t.Errorf("spot %+v", s)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("spots %+v, want kinds %v", spots, tc.want)
			}
			for k, n := range tc.want {
				c, ok := got[k]
				if !ok || n >= 0 && c != n || n < 0 && (c <= 0 || c >= deferrable) {
					t.Errorf("%s: count %d (present %v), want %d (-1: some, not all of %d)", k, c, ok, n, deferrable)
				}
			}
			if tc.text != "" && !strings.Contains(spots[0].Text, tc.text) {
				t.Errorf("text %q lacks %q", spots[0].Text, tc.text)
			}
		})
	}
}
