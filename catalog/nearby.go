package catalog

import (
	"slices"
	"strings"

	"github.com/deferproxy/deferproxy/internal/levenshtein"
)

// NearbyKind says how a node is near a relation that maps to no node.
type NearbyKind uint8

const (
	// NearSameIdentifier: a node whose relation has that identifier, in another schema.
	NearSameIdentifier NearbyKind = iota
	// NearSameName: a node with that name whose alias (production's) is different.
	NearSameName
	// NearVersion: a version of a node with that name ("<name>_v<version>").
	NearVersion
	// NearSimilar: a node in the same dev schema whose identifier is spelt nearly the same (a renamed alias).
	NearSimilar
)

// Nearby is a node a missing dev relation may have been meant to be.
type Nearby struct {
	Kind NearbyKind
	Node *Node    // the production node
	Dev  Relation // its dev relation in this mapping (zero when the mapping gives it none)
}

// maxNearby bounds what Nearby returns: a hint names a few candidates, not a listing.
const maxNearby = 3

// Nearby lists the production nodes a relation that is no node's dev relation may stand for, closest first: the
// same identifier in another schema, a node of that name with another alias, a version of it, a nearly equal
// identifier in the same dev schema. It walks every node: for error paths (a 42P01 hint), never per statement.
func (d *DevMap) Nearby(pm *Manifest, rel Relation) []Nearby {
	if pm == nil {
		return nil
	}
	type cand struct {
		Nearby
		dist int
	}
	var cands []cand
	pm.Nodes(func(n *Node) bool {
		if !pm.Deferrable(n) {
			return true
		}
		dev := d.devOf[n.UniqueID]
		ident := n.Relation.Identifier
		c := cand{Nearby: Nearby{Node: n, Dev: dev}}
		switch {
		case ident == rel.Identifier || dev.Identifier == rel.Identifier:
			c.Kind = NearSameIdentifier
		case n.Name == rel.Identifier:
			c.Kind = NearSameName
		case n.Version != "" && strings.HasPrefix(rel.Identifier, n.Name+"_v"):
			c.Kind = NearVersion
		default:
			if dev.Schema != rel.Schema && ident != "" {
				return true
			}
			dist := min(levenshtein.Distance(rel.Identifier, ident), levenshtein.Distance(rel.Identifier, n.Name))
			if sameWords(rel.Identifier, ident) || sameWords(rel.Identifier, n.Name) {
				dist = 1
			}
			if dist > max(2, len(rel.Identifier)/3) {
				return true
			}
			c.Kind, c.dist = NearSimilar, dist
		}
		cands = append(cands, c)
		return true
	})
	slices.SortFunc(cands, func(a, b cand) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		return strings.Compare(a.Node.UniqueID, b.Node.UniqueID)
	})
	out := make([]Nearby, 0, min(len(cands), maxNearby))
	for i := 0; i < len(cands) && i < maxNearby; i++ {
		out = append(out, cands[i].Nearby)
	}
	return out
}

// IsDevSchema reports whether a schema is one this mapping places dev relations in (SchemaName.Database "" matches
// any database).
func (d *DevMap) IsDevSchema(s SchemaName) bool {
	for _, x := range d.schemas {
		if x.Schema == s.Schema && (x.Database == "" || s.Database == "" || x.Database == s.Database) {
			return true
		}
	}
	return false
}

// sameWords reports whether two identifiers are the same words in another order (stg_orders, orders_stg).
func sameWords(a, b string) bool {
	if a == b || !strings.Contains(a, "_") {
		return false
	}
	wa, wb := strings.Split(a, "_"), strings.Split(b, "_")
	slices.Sort(wa)
	slices.Sort(wb)
	return slices.Equal(wa, wb)
}
