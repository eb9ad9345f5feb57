package deferral

import (
	"fmt"
	"strings"

	"github.com/deferproxy/deferproxy/catalog"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// modeGUC is the custom setting name clients use to read and change the mode (SPEC §8). PostgreSQL accepts two-part
// names as placeholders, which is why SET/RESET of it can be forwarded to the server unchanged: the server then keeps
// the transaction and protocol state (CommandComplete "SET", failed-transaction errors) exactly as for any setting.
const modeGUC = "deferproxy.mode"

// statusGUC is the read-only pseudo setting answered by SHOW deferproxy.status.
const statusGUC = "deferproxy.status"

// parseMode validates a mode value as a client wrote it (case-insensitive, like PostgreSQL's enum settings).
func parseMode(s string) (catalog.Mode, error) {
	m, err := catalog.ParseMode(strings.ToLower(strings.TrimSpace(s)))
	if err != nil {
		return m, fmt.Errorf("invalid value for parameter %q: %q", modeGUC, s)
	}
	return m, nil
}

// controlKind is what a session-control statement does.
type controlKind int

const (
	ctlSet controlKind = iota
	ctlReset
	ctlShowMode
	ctlShowStatus
)

// control is one session-control statement found in a query string.
type control struct {
	kind       controlKind
	value      string // raw value of SET (unvalidated)
	local      bool   // SET LOCAL
	start, end int    // byte span of the statement in the query string
}

// mentionsDeferproxy reports, without allocating, whether s contains "deferproxy." in any case. It is the cheap gate
// in front of the control-statement parse, run on every statement.
func mentionsDeferproxy(s string) bool {
	const word = "deferproxy."
	for i := 0; i+len(word) <= len(s); i++ {
		c := s[i]
		if c != 'd' && c != 'D' {
			continue
		}
		if strings.EqualFold(s[i:i+len(word)], word) {
			return true
		}
	}
	return false
}

// findControls parses sql and returns its deferproxy.* SET/RESET/SHOW statements. A string that does not parse has
// none (the statement then reaches the server, which answers with its own error).
func findControls(sql string) []control {
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return nil
	}
	var out []control
	for _, raw := range tree.Stmts {
		start := int(raw.StmtLocation)
		end := start + int(raw.StmtLen)
		if raw.StmtLen == 0 {
			end = len(sql)
		}
		switch n := raw.Stmt.GetNode().(type) {
		case *pg_query.Node_VariableSetStmt:
			v := n.VariableSetStmt
			if !strings.EqualFold(v.Name, modeGUC) {
				continue
			}
			c := control{start: start, end: end, local: v.IsLocal}
			switch v.Kind {
			case pg_query.VariableSetKind_VAR_SET_VALUE:
				c.kind = ctlSet
				c.value = constString(v.Args)
			case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET:
				c.kind = ctlReset
			default:
				continue
			}
			out = append(out, c)
		case *pg_query.Node_VariableShowStmt:
			switch strings.ToLower(n.VariableShowStmt.Name) {
			case modeGUC:
				out = append(out, control{kind: ctlShowMode, start: start, end: end})
			case statusGUC:
				out = append(out, control{kind: ctlShowStatus, start: start, end: end})
			}
		}
	}
	return out
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

// quoteLiteral returns s as a standard-conforming SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// startupSettings extracts the settings a client passed at connect time, either as startup parameters or inside the
// "options" parameter (-c name=value, --name=value), as PostgreSQL reads them.
func startupSettings(params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		switch strings.ToLower(k) {
		case modeGUC, "search_path", tagGUC:
			out[strings.ToLower(k)] = v
		}
	}
	opts := splitOptions(params["options"])
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		var kv string
		switch {
		case o == "-c" && i+1 < len(opts):
			i++
			kv = opts[i]
		case strings.HasPrefix(o, "-c"):
			kv = o[2:]
		case strings.HasPrefix(o, "--"):
			kv = o[2:]
		default:
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.ReplaceAll(name, "-", "_"))
		if name == modeGUC || name == "search_path" || name == tagGUC {
			out[name] = val
		}
	}
	return out
}

// splitOptions splits the startup "options" string on spaces, honouring backslash escapes (libpq's rule).
func splitOptions(s string) []string {
	var out []string
	var b strings.Builder
	esc, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			b.WriteByte(c)
			esc, have = false, true
		case c == '\\':
			esc = true
		case c == ' ' || c == '\t' || c == '\n':
			if have {
				out = append(out, b.String())
				b.Reset()
				have = false
			}
		default:
			b.WriteByte(c)
			have = true
		}
	}
	if have {
		out = append(out, b.String())
	}
	return out
}
