package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// BlindSpot is a part of the project the mapping in use cannot see, with how many nodes it covers: `deferproxy
// status`, /status and the admin page show each as a warning (docs/SPEC.md §7).
type BlindSpot struct {
	// Kind: "snapshot_target_schema" (snapshots whose target_schema/target_database could not be evaluated),
	// "generate_schema_name" / "generate_alias_name" (an override derivation does not know), "dev_schema" (no dev
	// schema to derive from), "unmapped_nodes" (deferrable nodes no dev relation maps to).
	Kind  string   `json:"kind"`
	Count int      `json:"count"`
	Text  string   `json:"text"`
	Nodes []string `json:"nodes,omitempty"` // a few of them (unique_ids)
}

// maxBlindNodes bounds the unique_ids a BlindSpot names.
const maxBlindNodes = 5

// BlindSpots lists what the mapping cannot see, loudest first; nil when it sees the whole project.
func (d *DevMap) BlindSpots() []BlindSpot {
	var out []BlindSpot
	if d.refused != "" {
		out = append(out, BlindSpot{Kind: d.refused, Count: d.unmapped, Text: d.explain})
	}
	if n := len(d.snaps.unsupported); n > 0 {
		ids := slices.Sorted(slices.Values(d.snaps.unsupported))
		out = append(out, BlindSpot{Kind: "snapshot_target_schema", Count: n, Text: strings.Join(d.snaps.warnings(mappingAdvice), " "),
			Nodes: ids[:min(n, maxBlindNodes)]})
	}
	if d.unmapped > 0 && d.refused == "" {
		why := "they are outside the schema map's production schemas"
		switch d.kind {
		case MapDevManifest:
			why = "the dev manifest does not have them (removed on the branch, or the dev manifest is older than production's)"
		case MapNone:
			why = "nothing maps"
		}
		out = append(out, BlindSpot{Kind: "unmapped_nodes", Count: d.unmapped, Nodes: d.firstUnmapped,
			Text: fmt.Sprintf("%d deferrable production nodes have no dev relation in this mapping (%s): a read of "+
				"their dev relation is never deferred, and a 42P01 for one carries deferproxy's hint; %s",
				d.unmapped, why, mappingAdvice)})
	}
	return out
}

// countUnmapped counts the deferrable production nodes without a dev relation and keeps the first few by unique_id.
func (d *DevMap) countUnmapped(pm *Manifest) {
	var ids []string
	pm.Nodes(func(n *Node) bool {
		if _, ok := d.devOf[n.UniqueID]; !ok && pm.Deferrable(n) {
			ids = append(ids, n.UniqueID)
		}
		return true
	})
	slices.Sort(ids)
	d.unmapped, d.firstUnmapped = len(ids), ids[:min(len(ids), maxBlindNodes)]
}
