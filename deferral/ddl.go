package deferral

import (
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/rewrite"
)

// trackDDL remembers the relations this statement creates, replaces, renames or drops in the open transaction
// (overlay over the shared dev catalog) and the schemas to invalidate when the transaction ends.
func (s *session) trackDDL(an *rewrite.Analysis, ts *targetState, scope catalog.Scope) {
	devTarget := s.target.database + "." + s.target.schema
	for _, st := range an.Statements {
		if !st.DDL {
			// DML into a node's dev relation (a seed reloaded in place: TRUNCATE + INSERT; an incremental model's
			// INSERT/MERGE) means dbt is building that node now: it counts as selected (SPEC §4.3).
			for _, ref := range st.References {
				if ref.Role != rewrite.Write {
					continue
				}
				if rel, ok := resolveRel(ref, scope); ok {
					if m, ok := ts.devmap.Lookup(rel); ok {
						s.e.sel.markBuilt(devTarget, m.UniqueID)
					}
				}
			}
			continue
		}
		kind := strings.ToUpper(st.Kind)
		var writes []rewrite.Reference
		for _, ref := range st.References {
			if ref.Role == rewrite.Write {
				writes = append(writes, ref)
			}
		}
		s.mu.Lock()
		if len(writes) == 0 {
			s.ddlUnknown = true // DROP SCHEMA, …: which relations changed is unknown
		}
		var prevRel catalog.Relation
		for i, ref := range writes {
			rel, ok := resolveRel(ref, scope)
			// Kept past this statement: never alias the proxy's read buffer.
			rel = catalog.Relation{Database: strings.Clone(rel.Database), Schema: strings.Clone(rel.Schema), Identifier: strings.Clone(rel.Identifier)}
			if len(ref.Normalized) == 1 && i > 0 && prevRel.Schema != "" {
				// ALTER … RENAME TO new: the new name lives in the old one's schema.
				rel = catalog.Relation{Database: prevRel.Database, Schema: prevRel.Schema, Identifier: strings.Clone(ref.Normalized[0])}
				ok = true
			} else if len(ref.Normalized) == 1 && strings.HasPrefix(kind, "CREATE") {
				if s.temps == nil {
					s.temps = map[string]struct{}{}
				}
				s.temps[strings.Clone(ref.Normalized[0])] = struct{}{}
				if ref.Temp {
					continue // pg_temp: not in any schema the dev catalog knows
				}
			}
			if !ok {
				continue
			}
			if s.ddlSchemas == nil {
				s.ddlSchemas = map[catalog.SchemaName]struct{}{}
			}
			s.ddlSchemas[catalog.SchemaName{Database: rel.Database, Schema: rel.Schema}] = struct{}{}
			if s.overlay == nil {
				s.overlay = map[catalog.Relation]bool{}
			}
			created := false
			switch {
			case strings.HasPrefix(kind, "DROP"):
				s.overlay[rel] = false
			case strings.HasPrefix(kind, "ALTER") && len(writes) >= 2:
				if i == 0 {
					s.overlay[rel] = false
				} else {
					s.overlay[rel], created = true, true
				}
			case strings.HasPrefix(kind, "CREATE") && !strings.Contains(kind, "INDEX") && i == 0,
				kind == "SELECT INTO":
				s.overlay[rel], created = true, true
			}
			if created {
				if m, ok := ts.devmap.Lookup(rel); ok {
					s.e.sel.markBuilt(devTarget, m.UniqueID)
				}
			}
			prevRel = rel
		}
		s.mu.Unlock()
	}
}
