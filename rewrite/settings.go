package rewrite

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// Setting is one change of a run-time setting in a statement: SET, SET LOCAL, RESET, SET … TO DEFAULT, or a
// set_config('name', 'value', is_local) call with constant arguments.
type Setting struct {
	// Name is the setting's name, lower-cased (PostgreSQL matches setting names case-insensitively).
	Name string
	// Value is the value as PostgreSQL would store a single-string setting (several values joined with ", ");
	// List holds each value of a list setting (search_path) as written, identifiers folded by the parser.
	Value string
	List  []string
	// Local is SET LOCAL, or set_config's is_local: the change ends with the transaction.
	Local bool
	// Reset is RESET name or SET name TO DEFAULT: back to the session's default.
	Reset bool
	// Call is true for a set_config call (the statement is a query that also sets); false for SET/RESET.
	Call bool
	// Unknown is a set_config call whose name, value or is_local is not a constant: the statement may change the
	// setting named by Name, or, when Name is "", any setting, to a value not known before it runs.
	Unknown bool
	// Start and End are the byte span of the SET/RESET statement, or of the set_config call, in the SQL text.
	Start, End int
}

// settingOf returns the setting a SET/RESET statement changes. RESET ALL is reported as a Reset of the name "all"
// (as DISCARD ALL is); SET … FROM CURRENT and SET of several settings at once (SET TRANSACTION …) are not reported.
func settingOf(v *pg_query.VariableSetStmt, start, end int) (Setting, bool) {
	s := Setting{Name: strings.ToLower(v.Name), Local: v.IsLocal, Start: start, End: end}
	switch v.Kind {
	case pg_query.VariableSetKind_VAR_SET_VALUE:
		s.Value = constString(v.Args)
		s.List = make([]string, 0, len(v.Args))
		for _, a := range v.Args {
			s.List = append(s.List, constString([]*pg_query.Node{a}))
		}
	case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET:
		s.Reset = true
	case pg_query.VariableSetKind_VAR_RESET_ALL:
		s.Name, s.Reset = "all", true
	default:
		return Setting{}, false
	}
	return s, true
}

// setConfig returns the setting a set_config('name', 'value', is_local) call changes. A call whose arguments are
// not all constants (or not three) is reported with Unknown set: what it changes is only known when it runs.
func setConfig(sql string, f *pg_query.FuncCall) (Setting, bool) {
	n := f.Funcname
	if len(n) == 0 || !strings.EqualFold(n[len(n)-1].GetString_().GetSval(), "set_config") ||
		len(n) == 2 && !strings.EqualFold(n[0].GetString_().GetSval(), "pg_catalog") || len(n) > 2 {
		return Setting{}, false
	}
	start := int(f.Location)
	end := callEnd(sql, start)
	if len(f.Args) != 3 {
		return Setting{Call: true, Unknown: true, Start: start, End: end}, true
	}
	name, value := f.Args[0].GetAConst(), f.Args[1].GetAConst()
	local := f.Args[2].GetAConst()
	if name == nil || name.GetSval() == nil || value == nil || value.GetSval() == nil || local == nil || local.GetBoolval() == nil {
		s := Setting{Call: true, Unknown: true, Start: start, End: end}
		if name != nil && name.GetSval() != nil {
			s.Name = strings.ToLower(name.GetSval().Sval)
		}
		return s, true
	}
	if start < 0 || end < 0 {
		return Setting{Name: strings.ToLower(name.GetSval().Sval), Call: true, Unknown: true}, true
	}
	v := value.GetSval().Sval
	return Setting{Name: strings.ToLower(name.GetSval().Sval), Value: v, List: SplitList(v),
		Local: local.GetBoolval().Boolval, Call: true, Start: start, End: end}, true
}

// callEnd returns the offset just past the closing parenthesis of the function call starting at start, or -1.
func callEnd(sql string, start int) int {
	s := scanner{src: sql, pos: start, dialect: Postgres}
	depth := 0
	for {
		t := s.next()
		switch {
		case t.kind == tkEOF:
			return -1
		case t.kind == tkPunct && sql[t.start] == '(':
			depth++
		case t.kind == tkPunct && sql[t.start] == ')':
			depth--
			if depth == 0 {
				return t.end
			}
		}
	}
}

// constString renders the argument list of a SET as PostgreSQL would store it for a single string/identifier value.
func constString(args []*pg_query.Node) string {
	if len(args) != 1 {
		parts := make([]string, 0, len(args))
		for _, a := range args {
			parts = append(parts, constString([]*pg_query.Node{a}))
		}
		return strings.Join(parts, ", ")
	}
	c := args[0].GetAConst()
	if c == nil {
		return ""
	}
	switch {
	case c.GetSval() != nil:
		return c.GetSval().Sval
	case c.GetIval() != nil:
		return fmt.Sprint(c.GetIval().Ival)
	case c.GetFval() != nil:
		return c.GetFval().Fval
	case c.GetBoolval() != nil:
		return fmt.Sprint(c.GetBoolval().Boolval)
	}
	return ""
}

// SplitList splits the value of a list setting as PostgreSQL stores it (search_path: "$user", public, "My Schema"):
// elements separated by commas, double-quoted elements exact, unquoted ones folded to lower case.
func SplitList(s string) []string {
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
