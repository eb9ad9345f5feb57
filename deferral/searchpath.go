package deferral

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// defaultSearchPath is PostgreSQL's default search_path.
var defaultSearchPath = []string{"$user", "public"}

// mentionsSearchPath is the cheap gate in front of search_path tracking. It looks for the spellings people and tools
// use (lower or upper case); a mixed-case SET Search_Path is not tracked.
func mentionsSearchPath(s string) bool {
	return strings.Contains(s, "search_path") || strings.Contains(s, "SEARCH_PATH")
}

// searchPathChange is a SET/RESET search_path found in a statement.
type searchPathChange struct {
	reset bool
	path  []string // schema names as stored (identifiers already folded by the parser)
}

// findSearchPathChanges returns the SET/RESET search_path statements of sql, in order.
func findSearchPathChanges(sql string) []searchPathChange {
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return nil
	}
	var out []searchPathChange
	for _, raw := range tree.Stmts {
		v := raw.Stmt.GetVariableSetStmt()
		if v == nil || !strings.EqualFold(v.Name, "search_path") {
			continue
		}
		switch v.Kind {
		case pg_query.VariableSetKind_VAR_SET_VALUE:
			var path []string
			for _, a := range v.Args {
				path = append(path, constString([]*pg_query.Node{a}))
			}
			out = append(out, searchPathChange{path: path})
		case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET:
			out = append(out, searchPathChange{reset: true})
		}
	}
	return out
}

// parseSearchPathList parses a search_path value as PostgreSQL stores it ("$user", public, "My Schema"): elements
// separated by commas, double-quoted elements exact, unquoted ones folded to lower case.
func parseSearchPathList(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '"' {
			var b strings.Builder
			i++
			for i < len(s) {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			out = append(out, b.String())
			continue
		}
		j := i
		for j < len(s) && s[j] != ',' {
			j++
		}
		out = append(out, strings.ToLower(strings.TrimSpace(s[i:j])))
		i = j
	}
	return out
}

// expandSearchPath turns a raw path into the schemas unqualified names resolve in: "$user" becomes the login user
// (when such a schema could exist), pg_temp and pg_catalog are left out (temp tables are handled separately and
// catalog names are never deferred).
func expandSearchPath(path []string, user string) []string {
	out := make([]string, 0, len(path))
	for _, p := range path {
		switch {
		case p == "$user":
			if user != "" {
				out = append(out, user)
			}
		case p == "pg_catalog", strings.HasPrefix(p, "pg_temp"), p == "":
		default:
			out = append(out, p)
		}
	}
	return out
}
