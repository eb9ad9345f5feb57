package deferral

import (
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/rewrite"
)

// guardObjects returns what a statement would write in production besides its relation targets, or "" (SPEC §6):
// a production schema it grants on, creates in or moves into (Statement.Schemas); an object in a production schema
// it creates, alters, drops or grants on (Statement.Objects); default privileges of every schema; and the writes
// of a code body (Statement.Body).
func guardObjects(st *rewrite.Statement, prod *catalog.Manifest, ts *targetState, scope catalog.Scope,
	tempTable func(string) bool) string {
	for _, s := range st.Schemas {
		if len(s.Normalized) == 1 && prod.IsProdSchema(catalog.SchemaName{Database: scope.Database, Schema: s.Normalized[0]}) {
			return s.Normalized[0] + " (a production schema)"
		}
	}
	kind := strings.ToUpper(st.Kind)
	if kind == "ALTER DEFAULT PRIVILEGES" && len(st.Schemas) == 0 {
		return "objects created from now on in every schema, production's included (ALTER DEFAULT PRIVILEGES without IN SCHEMA)"
	}
	for _, o := range st.Objects {
		if what := guardObject(o.Normalized, strings.HasPrefix(kind, "CREATE"), prod, ts, scope); what != "" {
			return what
		}
	}
	if b := st.Body; b != nil {
		for _, p := range b.Parts {
			if what := guard(p.Analysis, p.SQL, prod, ts, scope, tempTable); what != "" {
				if b.Runs {
					return what + " (written by the DO block's body)"
				}
				return what + " (written by the function's body)"
			}
		}
		// A DO block runs now: what the proxy cannot read in it could write anywhere. A function body that cannot be
		// read is stored, not run; calling it is the warehouse's to prevent (SPEC §6, deferproxy check-grants).
		if b.Runs && b.Dynamic {
			return "that a DO block's EXECUTE of a string built at run time may name (deferproxy cannot read that SQL)"
		}
		if b.Runs && b.Opaque != "" {
			return "that a DO block deferproxy cannot read may name (" + b.Opaque + ")"
		}
	}
	return ""
}

// guardObject checks one non-relation object name: in a production schema, or unqualified where the search_path
// puts (create) or finds (the rest) it in one.
func guardObject(parts []string, create bool, prod *catalog.Manifest, ts *targetState, scope catalog.Scope) string {
	switch len(parts) {
	case 3, 2:
		db := scope.Database
		if len(parts) == 3 {
			db = parts[0]
		}
		schema := parts[len(parts)-2]
		if prod.IsProdSchema(catalog.SchemaName{Database: db, Schema: schema}) {
			return schema + "." + parts[len(parts)-1] + " (in production schema " + schema + ")"
		}
	case 1:
		for _, p := range scope.SearchPath {
			if create && p == ts.key.schema {
				break // created in the dev target, which comes first
			}
			if prod.IsProdSchema(catalog.SchemaName{Database: scope.Database, Schema: p}) {
				return p + "." + parts[0] + " (an unqualified name the search_path may put in production schema " + p + ")"
			}
		}
	}
	return ""
}
