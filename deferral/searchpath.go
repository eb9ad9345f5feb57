package deferral

import (
	"strings"

	"github.com/deferproxy/deferproxy/rewrite"
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

// findSearchPathChanges returns the SET/RESET search_path statements of an analysed string, in order
// (set_config calls are not tracked).
func findSearchPathChanges(an *rewrite.Analysis) []searchPathChange {
	var out []searchPathChange
	for _, st := range an.Statements {
		for _, set := range st.Settings {
			if set.Call || set.Name != "search_path" {
				continue
			}
			out = append(out, searchPathChange{reset: set.Reset, path: set.List})
		}
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
