package deferral

import (
	"fmt"
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// guard returns the production relation a statement would write, or "" (SPEC §6).
func guard(an *rewrite.Analysis, sql string, prod *catalog.Manifest, ts *targetState, scope catalog.Scope,
	tempTable func(string) bool) string {
	for _, st := range an.Statements {
		writes := 0
		for _, ref := range st.References {
			if ref.Role == rewrite.Read {
				continue
			}
			writes++
			// Temp tables live in the session's pg_temp schema whatever the search_path says (dbt's incremental
			// models and snapshots create unqualified temp tables): never production.
			if len(ref.Normalized) == 1 && ref.Role == rewrite.Write {
				if tempTable != nil && tempTable(ref.Normalized[0]) {
					continue
				}
				if strings.HasPrefix(strings.ToUpper(st.Kind), "CREATE") {
					if ref.Temp {
						continue
					}
					// PostgreSQL creates an unqualified relation in the first schema of the search_path that exists
					// ("$user" often does not): refuse when any schema before the dev target is a production one.
					for _, p := range scope.SearchPath {
						if p == ts.key.schema {
							break
						}
						if prod.IsProdSchema(catalog.SchemaName{Database: scope.Database, Schema: p}) {
							return catalog.Relation{Schema: p, Identifier: ref.Normalized[0]}.String() +
								" (an unqualified name the search_path may put in production schema " + p + ")"
						}
					}
				}
			}
			if name, refused := catalog.ProdWriteGuard(prod, ref, scope); refused {
				return name
			}
		}
		// Snowflake's IDENTIFIER('db.s.t'): never rewritten, but a write through it is a write like any other.
		for _, ref := range st.Identified {
			if ref.Role != rewrite.Write {
				continue
			}
			writes++
			if name, refused := catalog.ProdWriteGuard(prod, ref, scope); refused {
				return name
			}
		}
		if what := guardObjects(&st, prod, ts, scope, tempTable); what != "" {
			return what
		}
		// The guard never fails open: a statement that did not parse and whose write target the lexer could not
		// read is refused when it names a production schema at all.
		// DROP/ALTER SCHEMA name no relation: refuse when they name a production schema.
		kind := strings.ToUpper(st.Kind)
		if an.Parsed && writes == 0 && st.DDL && (strings.HasPrefix(kind, "DROP") || strings.HasPrefix(kind, "ALTER")) {
			for _, ps := range ts.prodSchemas {
				if rewrite.ContainsWord(sql[st.Start:st.End], ps) {
					return ps + " (a production schema)"
				}
			}
		}
		// A Snowflake statement is always read by the lexer (never "parsed"); Snowflake has no SELECT INTO, so a
		// SELECT there only reads (the lexer finds the write of a CTAS), and reading production is allowed.
		first := rewrite.FirstWord(sql[st.Start:st.End])
		readOnly := an.Dialect == rewrite.Snowflake && strings.EqualFold(first, "select")
		if !an.Parsed && writes == 0 && !readOnly && rewrite.WriteVerb(first) {
			for _, ps := range ts.prodSchemas {
				if rewrite.ContainsWord(sql[st.Start:st.End], ps) {
					return ps + " (a production schema, in a statement deferproxy could not parse)"
				}
			}
		}
	}
	return ""
}

func prodWriteError(rel string) *engine.Refusal {
	return &engine.Refusal{
		Code:    "42501",
		Message: fmt.Sprintf("deferproxy: permission denied: this dev session may not write to production relation %s", rel),
		Detail:  "Writes from a dev session into a production relation (or a schema that holds production nodes) are refused by the production write guard.",
		Hint:    "To allow it, set allow_prod_writes: true in the deferproxy configuration (or start it with --allow-prod-writes).",
	}
}
