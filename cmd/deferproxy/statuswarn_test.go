package main

import (
	"strings"
	"testing"

	"github.com/deferproxy/deferproxy/deferral"
)

// TestStatusPrintsWarnings: `deferproxy status` shows each engine warning with its kind, count and a few nodes.
func TestStatusPrintsWarnings(t *testing.T) {
	var out strings.Builder
	printStatus(&out, statusDoc{Engine: &deferral.Status{Mapping: "derived: …", Warnings: []deferral.Warning{
		{Kind: "snapshot_target_schema", Count: 2, Text: "2 snapshots have a target_schema deferproxy cannot evaluate",
			Nodes: []string{"snapshot.p.a", "snapshot.p.b"}},
		{Kind: "get_relation", Count: 3, Text: "3 times a dbt invocation listed a dev schema"},
	}}})
	for _, w := range []string{
		"WARNING        snapshot_target_schema (2): 2 snapshots have a target_schema deferproxy cannot evaluate\n" +
			"               e.g. snapshot.p.a, snapshot.p.b\n",
		"WARNING        get_relation (3): 3 times a dbt invocation listed a dev schema\n",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("status lacks %q:\n%s", w, out.String())
		}
	}
}
