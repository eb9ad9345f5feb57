package deferral

import (
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// The search_path PostgreSQL will really use (SPEC §6). The session starts from the value the server reports (the
// proxy asks it once at connect, after role and database defaults and startup options have applied; without a
// report, the startup options or PostgreSQL's default), then follows SET/RESET search_path in any spelling,
// set_config('search_path', …), RESET ALL and DISCARD ALL with PostgreSQL's transaction rules. What it cannot follow
// (set_config with a computed argument, DO blocks and function definitions that mention the path) makes the path
// unknown until the next plain SET, and every unqualified write is refused while it is.

// defaultSearchPath is PostgreSQL's default search_path.
var defaultSearchPath = []string{"$user", "public"}

// pathState is a search_path as the session knows it.
type pathState struct {
	raw     []string // the value as set, one element per schema ("$user" unexpanded)
	unknown bool     // changed by something only the server knows the effect of
}

// pathTx is the search_path state within one transaction block.
type pathTx struct {
	current    pathState // in effect now
	sessionVal pathState // what COMMIT keeps (the last non-LOCAL change)
	hasSession bool
}

// mentionsPath is the cheap gate in front of search_path tracking: can the text change the search_path (or the role
// "$user" stands for)? It looks for search_path and set_config in any case, and for U& (whose escapes can spell
// either); statements starting with SET, RESET or DISCARD are always looked at.
func mentionsPath(s string) bool {
	for i := strings.IndexByte(s, '_'); i >= 0; {
		if i >= 6 && i+5 <= len(s) && strings.EqualFold(s[i-6:i+5], "search_path") ||
			i >= 3 && i+7 <= len(s) && strings.EqualFold(s[i-3:i+7], "set_config") {
			return true
		}
		j := strings.IndexByte(s[i+1:], '_')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return strings.Contains(s, "&") && rewrite.ContainsFold(s, "u&")
}

// pathWords says whether a statement text names the search_path or set_config in any case.
func pathWords(s string) (path, setConfig bool) {
	return rewrite.ContainsFold(s, "search_path"), rewrite.ContainsFold(s, "set_config")
}

// trackSearchPath applies the search_path changes of an analysed string, in order.
func (s *session) trackSearchPath(an *rewrite.Analysis, sql string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txState == engine.TxFailed {
		return // the server refuses every statement until ROLLBACK
	}
	for i := range an.Statements {
		st := &an.Statements[i]
		text := sql[max(0, min(st.Start, len(sql))):max(0, min(st.End, len(sql)))]
		explainedPath, explainedCall := false, false
		for _, set := range st.Settings {
			switch {
			case set.Unknown:
				explainedCall = true
				if set.Name == "" || set.Name == "search_path" || set.Name == "role" || set.Name == "session_authorization" {
					s.setPathLocked(s.unknownPathLocked(), false)
				}
			case set.Name == "search_path":
				explainedPath, explainedCall = true, explainedCall || set.Call
				if set.Reset {
					s.setPathLocked(s.startPath, set.Local)
				} else {
					s.setPathLocked(pathState{raw: set.List}, set.Local)
				}
			case set.Name == "all":
				s.setPathLocked(s.startPath, set.Local)
				s.roles = s.roles[:1]
				s.pathChangedLocked()
			case set.Name == "role" || set.Name == "session_authorization":
				explainedCall = explainedCall || set.Call
				if !set.Reset && set.Value != "" && !strings.EqualFold(set.Value, "none") {
					s.roles = append(s.roles, set.Value)
				} else {
					s.roles = s.roles[:1]
				}
				s.pathChangedLocked()
			default:
				explainedCall = explainedCall || set.Call
			}
		}
		path, call := pathWords(text)
		if !an.Parsed && (path || call || rewrite.ContainsFold(text, "u&")) ||
			call && !explainedCall || path && !explainedPath && !readsPathOnly(text) {
			// A DO block or a function body that sets the path, set_config named in a string, text that did not
			// parse: what the server does with it is not known here.
			s.setPathLocked(s.unknownPathLocked(), false)
		}
	}
}

// readsPathOnly says whether a statement that names search_path cannot change this session's: SHOW, a query
// (current_setting), and role or database defaults (ALTER ROLE/USER/DATABASE … SET, which apply from the next
// session on; the proxy asks the server for the value when that session starts).
func readsPathOnly(text string) bool {
	w := strings.ToLower(rewrite.FirstWord(text))
	switch w {
	case "show", "select", "values", "table", "with", "explain":
		return true
	case "alter":
		rest := strings.TrimLeft(text[strings.Index(strings.ToLower(text), "alter")+5:], " \t\r\n")
		switch strings.ToLower(rewrite.FirstWord(rest)) {
		case "role", "user", "database":
			return true
		}
	}
	return false
}

// unknownPathLocked is the current path marked unknown.
func (s *session) unknownPathLocked() pathState {
	cur := s.path
	if s.pathTx != nil {
		cur = s.pathTx.current
	}
	return pathState{raw: cur.raw, unknown: true}
}

// setPathLocked applies a change of the search_path with PostgreSQL's transaction rules: outside a transaction
// block a SET stays and a SET LOCAL does nothing; inside, a rollback undoes both and SET LOCAL ends with the block.
func (s *session) setPathLocked(p pathState, local bool) {
	if !s.inTxLocked() {
		if local {
			return
		}
		s.path = p
	} else {
		if s.pathTx == nil {
			s.pathTx = &pathTx{current: s.path}
		}
		s.pathTx.current = p
		if !local {
			s.pathTx.sessionVal, s.pathTx.hasSession = p, true
		}
	}
	s.pathChangedLocked()
}

// endPathTxLocked ends the transaction's search_path state (Transaction(TxIdle)).
func (s *session) endPathTxLocked(rolledBack bool) {
	if s.pathTx == nil {
		return
	}
	if !rolledBack && s.pathTx.hasSession {
		s.path = s.pathTx.sessionVal
	}
	s.pathTx = nil
	s.pathChangedLocked()
}

// pathChangedLocked recomputes what the search_path gives: the scope unqualified reads resolve in (the path in
// effect), and what the write guard judges unqualified writes by — every path the server may be using (inside a
// transaction, the one before it too, since the client can be ahead of the server's answers) with "$user" standing
// for every role the session may have become.
func (s *session) pathChangedLocked() {
	cur := s.path
	if s.pathTx != nil {
		cur = s.pathTx.current
	}
	s.searchPath = cur.raw
	s.scope = catalog.Scope{Database: s.info.Database, SearchPath: expandSearchPath(cur.raw, s.roles[len(s.roles)-1])}
	candidates := []pathState{cur}
	if s.pathTx != nil {
		candidates = append(candidates, s.path)
	}
	s.guardScopes = nil // a new slice: verdicts in flight hold the old one
	s.pathUnknown = false
	for _, c := range candidates {
		s.pathUnknown = s.pathUnknown || c.unknown
		for _, r := range s.roles {
			s.guardScopes = append(s.guardScopes, catalog.Scope{Database: s.info.Database, SearchPath: expandSearchPath(c.raw, r)})
		}
	}
	s.pathVersion++
}

// pathRiskLocked says whether an unqualified write could land in a production schema: the path is unknown or
// reaches one. Cached per target state and path version.
func (s *session) pathRiskLocked(ts *targetState) bool {
	if s.riskTS == ts.id && s.riskVersion == s.pathVersion {
		return s.risk
	}
	s.riskTS, s.riskVersion, s.risk = ts.id, s.pathVersion, s.pathUnknown
	for _, sc := range s.guardScopes {
		for _, p := range sc.SearchPath {
			if ts.prod.IsProdSchema(catalog.SchemaName{Database: sc.Database, Schema: p}) {
				s.risk = true
			}
		}
	}
	return s.risk
}

// couldWrite is the cheap test of whether a text may write: anything but a lone SELECT/VALUES/TABLE/SHOW without
// INTO. Used only while the search_path reaches production, where an unqualified write needs no schema name.
func couldWrite(first, sql string, multi bool) bool {
	if multi {
		return true
	}
	switch strings.ToLower(first) {
	case "select", "values", "table", "show":
		return rewrite.ContainsFold(sql, "into")
	}
	return true
}

// guardUnqualified returns what an unqualified write could hit in production, or "" (SPEC §6): every relation of a
// schema that holds production nodes counts, node or not. While the path is unknown every unqualified write that
// is not to a temporary table is refused; otherwise a write to an existing relation is refused when any schema of a
// path the server may use is a production one (PostgreSQL takes the first schema holding the name), and a CREATE
// when a production schema comes before the dev target (it creates in the first schema that exists).
func guardUnqualified(an *rewrite.Analysis, prod *catalog.Manifest, ts *targetState, scopes []catalog.Scope, unknown bool,
	tempTable func(string) bool) (rel, hint string) {
	for _, st := range an.Statements {
		kind := strings.ToUpper(st.Kind)
		creates := strings.HasPrefix(kind, "CREATE") || kind == "SELECT INTO"
		for _, ref := range st.References {
			if ref.Role != rewrite.Write || len(ref.Normalized) != 1 || ref.Temp && creates {
				continue
			}
			name := ref.Normalized[0]
			if tempTable != nil && tempTable(name) {
				continue
			}
			if unknown {
				return name + " (an unqualified name, and this session's search_path is not known for certain)",
					"Qualify the name with the dev schema, or run a plain SET search_path = <dev schema> first (it was last changed by something deferproxy cannot follow)."
			}
			for _, sc := range scopes {
				for _, p := range sc.SearchPath {
					if creates && p == ts.key.schema {
						break
					}
					if prod.IsProdSchema(catalog.SchemaName{Database: sc.Database, Schema: p}) {
						return catalog.Relation{Schema: p, Identifier: name}.String() +
								" (an unqualified name the search_path may resolve in production schema " + p + ")",
							"Qualify the name with the dev schema, or SET search_path to schemas that hold no production relations."
					}
				}
			}
		}
	}
	return "", ""
}

// expandSearchPath turns a raw path into the schemas unqualified names resolve in: "$user" becomes the role
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
