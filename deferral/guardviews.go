package deferral

import (
	"context"
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/rewrite"
)

// viewCatalog is what the write guard asks the dev catalog about a DML target: its kind, and for a view the
// relations it reads (catalog.DevCatalog).
type viewCatalog interface {
	Relations(ctx context.Context, s catalog.SchemaName) (map[string]byte, error)
	ViewBases(ctx context.Context, rel catalog.Relation) ([]catalog.Relation, error)
}

// guardViews returns the production relation a DML statement would write through a dev view, or "" (SPEC §6): an
// INSERT/UPDATE/DELETE/MERGE whose target is a view that reads (directly or through other views) a relation in
// production. Whether a target is a view comes from the dev catalog's cached listing of its schema, so a write into
// a table costs no round trip. When the catalog cannot answer, the write is refused: writes fail closed.
func guardViews(ctx context.Context, p *plan) string {
	if p.views == nil {
		return ""
	}
	for i := range p.an.Statements {
		st := &p.an.Statements[i]
		switch strings.ToUpper(st.Kind) {
		case "INSERT", "UPDATE", "DELETE", "MERGE":
		default:
			continue
		}
		for _, ref := range st.References {
			if ref.Role != rewrite.Write || len(ref.Normalized) == 1 && p.tempTable != nil && p.tempTable(ref.Normalized[0]) {
				continue
			}
			view, ok, err := p.findView(ctx, ref)
			if err != nil {
				return ref.Normalized[len(ref.Normalized)-1] + " (the dev catalog could not say whether it is a view over production: " + err.Error() + ")"
			}
			if !ok {
				continue
			}
			bases, err := p.views.ViewBases(ctx, view)
			if err != nil {
				return view.String() + " (the dev catalog could not say what the view reads: " + err.Error() + ")"
			}
			for _, b := range bases {
				if n, ok := p.prod.NodeByRelation(b); ok {
					return n.Relation.String() + " (read by dev view " + view.String() + ", which the write goes through)"
				}
				if p.prod.IsProdSchema(catalog.SchemaName{Database: b.Database, Schema: b.Schema}) {
					return b.String() + " (read by dev view " + view.String() + ", which the write goes through)"
				}
			}
		}
	}
	return ""
}

// findView resolves a DML target as PostgreSQL would (unqualified: the first search_path schema that has it) and
// reports whether it is a view.
func (p *plan) findView(ctx context.Context, ref rewrite.Reference) (catalog.Relation, bool, error) {
	n := ref.Normalized
	var candidates []catalog.Relation
	switch len(n) {
	case 3:
		candidates = []catalog.Relation{{Database: n[0], Schema: n[1], Identifier: n[2]}}
	case 2:
		candidates = []catalog.Relation{{Database: p.scope.Database, Schema: n[0], Identifier: n[1]}}
	case 1:
		for _, s := range p.scope.SearchPath {
			candidates = append(candidates, catalog.Relation{Database: p.scope.Database, Schema: s, Identifier: n[0]})
		}
	}
	for _, rel := range candidates {
		kinds, err := p.views.Relations(ctx, catalog.SchemaName{Database: rel.Database, Schema: rel.Schema})
		if err != nil {
			return rel, false, err
		}
		if k, ok := kinds[rel.Identifier]; ok {
			return rel, k == 'v', nil
		}
	}
	return catalog.Relation{}, false, nil
}
