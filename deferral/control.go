package deferral

import (
	"fmt"
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/rewrite"
)

// modeGUC is the custom setting name clients use to read and change the mode (SPEC §8). PostgreSQL accepts two-part
// names as placeholders, which is why SET/RESET of it can be forwarded to the server unchanged: the server then keeps
// the transaction and protocol state (CommandComplete "SET", failed-transaction errors) exactly as for any setting.
const modeGUC = "deferproxy.mode"

// statusGUC is the read-only pseudo setting answered by SHOW deferproxy.status.
const statusGUC = "deferproxy.status"

// viewGUC turns the catalog view on for a session (SPEC §5.6); like modeGUC, SET/RESET of it reach the server.
const viewGUC = "deferproxy.catalog_view"

// parseBool reads a boolean setting value as PostgreSQL's parse_bool does: on/off, true/false, yes/no (and their
// unique prefixes), 1/0, case-insensitive.
func parseBool(name, s string) (bool, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch {
	case v == "on" || v == "1" || v != "" && (strings.HasPrefix("true", v) || strings.HasPrefix("yes", v)):
		return true, nil
	case len(v) >= 2 && strings.HasPrefix("off", v) || v == "0" || v != "" && (strings.HasPrefix("false", v) || strings.HasPrefix("no", v)):
		return false, nil
	}
	return false, fmt.Errorf("parameter %q requires a Boolean value", name)
}

// onOff is how PostgreSQL shows a boolean setting.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// parseMode validates a mode value as a client wrote it, with PostgreSQL's message for a bad setting value.
func parseMode(s string) (catalog.Mode, error) {
	m, err := catalog.ParseMode(s)
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
	ctlShowView
)

// control is one session-control statement found in a query string.
type control struct {
	kind       controlKind
	name       string // the setting SET/RESET change (modeGUC or viewGUC)
	value      string // raw value of SET (unvalidated)
	local      bool   // SET LOCAL
	start, end int    // byte span of the statement in the query string
}

// findControls returns the deferproxy.* SET/RESET/SHOW statements of an analysed string. A string that did not
// parse has none (the statement then reaches the server, which answers with its own error).
func findControls(an *rewrite.Analysis) []control {
	if !an.Parsed {
		return nil
	}
	var out []control
	for _, st := range an.Statements {
		switch st.Show {
		case modeGUC:
			out = append(out, control{kind: ctlShowMode, start: st.Start, end: st.End})
		case statusGUC:
			out = append(out, control{kind: ctlShowStatus, start: st.Start, end: st.End})
		case viewGUC:
			out = append(out, control{kind: ctlShowView, start: st.Start, end: st.End})
		}
		for _, set := range st.Settings {
			if set.Call || set.Name != modeGUC && set.Name != viewGUC {
				continue
			}
			c := control{kind: ctlSet, name: set.Name, value: set.Value, local: set.Local, start: set.Start, end: set.End}
			if set.Reset {
				c.kind = ctlReset
			}
			out = append(out, c)
		}
	}
	return out
}

// startupSettings extracts the settings a client passed at connect time, either as startup parameters or inside the
// "options" parameter (-c name=value, --name=value), as PostgreSQL reads them.
func startupSettings(params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		switch strings.ToLower(k) {
		case modeGUC, "search_path", tagGUC, viewGUC:
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
		if name == modeGUC || name == "search_path" || name == tagGUC || name == viewGUC {
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

// setBeforeOthers reports whether a SET or RESET of a deferproxy setting comes before another statement of the
// string (other than such a control statement).
func setBeforeOthers(an *rewrite.Analysis) bool {
	if an == nil || !an.Parsed {
		return false
	}
	set := false
	for _, st := range an.Statements {
		switch {
		case isControlStatement(st):
			for _, x := range st.Settings {
				if !x.Call && (x.Name == modeGUC || x.Name == viewGUC) {
					set = true
				}
			}
		case set:
			return true
		}
	}
	return false
}

// isControlStatement says whether a statement is one the proxy answers or tracks itself: SHOW or SET/RESET of a
// deferproxy setting.
func isControlStatement(st rewrite.Statement) bool {
	switch st.Show {
	case modeGUC, statusGUC, viewGUC:
		return true
	}
	for _, x := range st.Settings {
		if !x.Call && (x.Name == modeGUC || x.Name == viewGUC) {
			return true
		}
	}
	return false
}
