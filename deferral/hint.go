package deferral

import (
	"context"
	"fmt"
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
)

// codeUndefinedTable is PostgreSQL's SQLSTATE for a relation that does not exist.
const codeUndefinedTable = "42P01"

var _ engine.ErrorExplainer = (*session)(nil)

// ServerError implements engine.ErrorExplainer: when the warehouse says a relation does not exist (42P01) and that
// relation is in a dev schema but maps to no dbt node, the client is told why it was not deferred, what the mapping
// knows nearby (a renamed alias, the same name in another schema) and what to configure (docs/SPEC.md §7). Every other
// error costs one comparison.
func (s *session) ServerError(ctx context.Context, se engine.ServerError) string {
	if se.Code != codeUndefinedTable {
		return ""
	}
	parts, ok := missingRelation(se.Message)
	if !ok {
		return ""
	}
	prod := s.e.prod.Current()
	if prod == nil {
		return ""
	}
	ts := s.targetFor(prod)
	s.mu.Lock()
	scope := s.scope
	s.mu.Unlock()
	rel, ok := hintRelation(ts, parts, scope, s.target)
	if !ok {
		return ""
	}
	return undefinedHint(ts, rel, s.target)
}

// missingRelation takes the name out of PostgreSQL's `relation "a.b" does not exist` (the name as written, parts
// joined by dots, unquoted). false for a message in another language or shape: no hint then.
func missingRelation(msg string) ([]string, bool) {
	const pre, post = `relation "`, `" does not exist`
	if !strings.HasPrefix(msg, pre) || !strings.HasSuffix(msg, post) || len(msg) <= len(pre)+len(post) {
		return nil, false
	}
	parts := strings.Split(msg[len(pre):len(msg)-len(post)], ".")
	if len(parts) > 3 {
		return nil, false
	}
	return parts, true
}

// hintRelation resolves the missing name to the dev relation the hint is about; false when it is no dev relation
// deferproxy should have known: a production relation, a relation the mapping does map (its 42P01 is the
// warehouse's own business), or a name outside the dev schemas.
func hintRelation(ts *targetState, parts []string, scope catalog.Scope, t targetKey) (catalog.Relation, bool) {
	var cands []catalog.Relation
	switch len(parts) {
	case 3:
		cands = append(cands, catalog.Relation{Database: parts[0], Schema: parts[1], Identifier: parts[2]})
	case 2:
		cands = append(cands, catalog.Relation{Database: scope.Database, Schema: parts[0], Identifier: parts[1]})
	default:
		for _, sc := range scope.SearchPath {
			cands = append(cands, catalog.Relation{Database: scope.Database, Schema: sc, Identifier: parts[0]})
		}
	}
	for _, rel := range cands {
		if !isDevSchema(ts, rel, t) {
			continue
		}
		if _, ok := ts.devmap.Lookup(rel); ok {
			return catalog.Relation{}, false
		}
		if _, ok := ts.prod.NodeByRelation(rel); ok {
			return catalog.Relation{}, false
		}
		return rel, true
	}
	return catalog.Relation{}, false
}

// isDevSchema: a schema the mapping places dev relations in, or the dev target's schema and its <target>_<custom>
// schemas — and never a production schema.
func isDevSchema(ts *targetState, rel catalog.Relation, t targetKey) bool {
	sc := catalog.SchemaName{Database: rel.Database, Schema: rel.Schema}
	if ts.prod.IsProdSchema(sc) {
		return false
	}
	if t.schema != "" && (rel.Schema == t.schema || strings.HasPrefix(rel.Schema, t.schema+"_")) {
		return true
	}
	sc.Database = ""
	return ts.devmap.IsDevSchema(sc) || ts.devmap.IsDevSchema(catalog.SchemaName{Database: rel.Database, Schema: rel.Schema})
}

// undefinedHint is the hint for a dev relation that maps to no node (docs/SPEC.md §7).
func undefinedHint(ts *targetState, rel catalog.Relation, t targetKey) string {
	dm := ts.devmap
	name := catalog.Relation{Schema: rel.Schema, Identifier: rel.Identifier}.String()
	var b strings.Builder
	fmt.Fprintf(&b, "deferproxy: %s is no dbt node's dev relation in the mapping in use (%s), so it was not deferred "+
		"to production.", name, mappingName(dm.Kind()))
	for _, n := range dm.Nearby(ts.prod, rel) {
		b.WriteString("\nNearby: ")
		b.WriteString(nearbyText(n, rel))
	}
	b.WriteString("\nFix: ")
	switch dm.Kind() {
	case catalog.MapDevManifest:
		b.WriteString("the dev manifest does not know this relation: run dbt parse (or compile) on your branch so " +
			"target/manifest.json is current; deferproxy reloads it")
	default:
		fmt.Fprintf(&b, "give deferproxy your dev manifest (--dev-manifest target/manifest.json, or --project-dir "+
			"with your dbt project), or map the schema (--schema-map %s=<production schema>)", catalog.Relation{
			Identifier: rel.Schema}.String())
	}
	b.WriteString("; docs/SPEC.md §3.")
	return b.String()
}

// mappingName is a short name of the mapping source for the hint.
func mappingName(k catalog.MappingKind) string {
	switch k {
	case catalog.MapDevManifest:
		return "the dev manifest"
	case catalog.MapSchemaMap:
		return "the schema map"
	case catalog.MapDerived:
		return "derived from the production manifest; no dev manifest"
	}
	return "none: nothing maps"
}

func nearbyText(n catalog.Nearby, rel catalog.Relation) string {
	node := n.Node
	prod := catalog.Relation{Schema: node.Relation.Schema, Identifier: node.Relation.Identifier}.String()
	dev := "no dev relation in this mapping"
	if n.Dev.Identifier != "" {
		dev = "dev " + catalog.Relation{Schema: n.Dev.Schema, Identifier: n.Dev.Identifier}.String()
	}
	head := fmt.Sprintf("%s %s (production %s, %s)", node.ResourceType, node.Name, prod, dev)
	switch n.Kind {
	case catalog.NearSameIdentifier:
		return head + fmt.Sprintf(" has the identifier %s in another schema.", catalog.Relation{Identifier: rel.Identifier})
	case catalog.NearSameName:
		return head + fmt.Sprintf(" is named %s but its production alias is %s: if your branch changed its alias, "+
			"only the dev manifest knows.", node.Name, catalog.Relation{Identifier: node.Relation.Identifier})
	case catalog.NearVersion:
		return head + " is a version of this model: a version new on your branch is known only from the dev manifest."
	}
	return head + ": if your branch renamed its alias (or the model), only the dev manifest knows."
}
