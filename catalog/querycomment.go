package catalog

import (
	"encoding/json"
	"strings"
)

// QueryComment is what deferproxy reads from dbt's query comment (SPEC §4.3):
// /* {"app": "dbt", "dbt_version": "1.8.4", "profile_name": "pg", "target_name": "dev", "node_id": "model.pkg.name"} */
// Fields absent from the comment are empty. The strings share memory with the statement text.
type QueryComment struct {
	App            string
	DbtVersion     string
	ProfileName    string
	TargetName     string
	NodeID         string
	ConnectionName string
	InvocationID   string
}

// ParseQueryComment finds dbt's JSON query comment at the start of sql (dbt-postgres prepends it) or at its end
// (dbt-snowflake appends it; trailing whitespace and semicolons are allowed) and returns its fields. false: there is
// no such comment, or it is not a JSON object.
//
// It runs for every statement that passes the prefilter, so it does not allocate unless a value holds a JSON
// escape.
func ParseQueryComment(sql string) (QueryComment, bool) {
	if body, ok := leadingComment(sql); ok {
		if qc, ok := parseCommentJSON(body); ok {
			return qc, true
		}
	}
	if body, ok := trailingComment(sql); ok {
		return parseCommentJSON(body)
	}
	return QueryComment{}, false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// leadingComment returns the text inside a /* … */ that opens sql (after whitespace).
func leadingComment(sql string) (string, bool) {
	i := 0
	for i < len(sql) && isSpace(sql[i]) {
		i++
	}
	if !strings.HasPrefix(sql[i:], "/*") {
		return "", false
	}
	rest := sql[i+2:]
	end := strings.Index(rest, "*/")
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

// trailingComment returns the text inside a /* … */ that closes sql (before whitespace and semicolons).
func trailingComment(sql string) (string, bool) {
	j := len(sql)
	for j > 0 && (isSpace(sql[j-1]) || sql[j-1] == ';') {
		j--
	}
	if !strings.HasSuffix(sql[:j], "*/") {
		return "", false
	}
	head := sql[:j-2]
	start := strings.LastIndex(head, "/*")
	if start < 0 {
		return "", false
	}
	return head[start+2:], true
}

// parseCommentJSON reads a flat JSON object of a dbt query comment. Values that are not strings (null, numbers,
// booleans, nested objects or arrays of a custom query-comment) are skipped.
func parseCommentJSON(s string) (QueryComment, bool) {
	var qc QueryComment
	p := jsonScan{s: s}
	p.space()
	if !p.byte('{') {
		return qc, false
	}
	p.space()
	if p.byte('}') {
		return qc, p.end()
	}
	for {
		p.space()
		key, ok := p.str()
		if !ok {
			return qc, false
		}
		p.space()
		if !p.byte(':') {
			return qc, false
		}
		p.space()
		var val string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			if val, ok = p.str(); !ok {
				return qc, false
			}
			switch key {
			case "app":
				qc.App = val
			case "dbt_version":
				qc.DbtVersion = val
			case "profile_name":
				qc.ProfileName = val
			case "target_name":
				qc.TargetName = val
			case "node_id":
				qc.NodeID = val
			case "connection_name":
				qc.ConnectionName = val
			case "invocation_id":
				qc.InvocationID = val
			}
		} else if !p.skipValue() {
			return qc, false
		}
		p.space()
		if p.byte(',') {
			continue
		}
		if p.byte('}') {
			return qc, p.end()
		}
		return qc, false
	}
}

type jsonScan struct {
	s string
	i int
}

// space skips JSON's whitespace: space, tab, newline and carriage return only (not SQL's \f and \v).
func (p *jsonScan) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScan) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScan) end() bool {
	p.space()
	return p.i == len(p.s)
}

// str reads a JSON string; without escapes the result is a substring of the input.
func (p *jsonScan) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	escaped := false
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c == '"':
			raw := p.s[start:p.i]
			p.i++
			if !escaped {
				return raw, true
			}
			var out string
			if err := json.Unmarshal([]byte(p.s[start-1:p.i]), &out); err != nil {
				return "", false
			}
			return out, true
		case c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// skipValue skips one JSON value that is not read (numbers, literals, nested objects and arrays of a custom
// query-comment), validating it so that only real JSON is accepted.
func (p *jsonScan) skipValue() bool { return p.value(0) }

func (p *jsonScan) value(depth int) bool {
	if p.i >= len(p.s) || depth > 32 {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.i++
		p.space()
		if p.byte(closer) {
			return true
		}
		for {
			p.space()
			if c == '{' {
				if _, ok := p.str(); !ok {
					return false
				}
				p.space()
				if !p.byte(':') {
					return false
				}
				p.space()
			}
			if !p.value(depth + 1) {
				return false
			}
			p.space()
			if p.byte(closer) {
				return true
			}
			if !p.byte(',') {
				return false
			}
		}
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return p.number()
}

func (p *jsonScan) literal(lit string) bool {
	if strings.HasPrefix(p.s[p.i:], lit) {
		p.i += len(lit)
		return true
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonScan) number() bool {
	p.byte('-')
	switch {
	case p.byte('0'):
	case p.i < len(p.s) && p.s[p.i] >= '1' && p.s[p.i] <= '9':
		p.digits()
	default:
		return false
	}
	if p.byte('.') && !p.digits() {
		return false
	}
	if p.byte('e') || p.byte('E') {
		if !p.byte('+') {
			p.byte('-')
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

func (p *jsonScan) digits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}
