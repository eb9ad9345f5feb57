package rewrite

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// Statements that act on whole schemas carry the schema names as bare strings; their spans are found by scanning
// the statement's tokens.

// schemaStmt records the schema names of DROP SCHEMA, ALTER SCHEMA … RENAME/OWNER and GRANT/REVOKE on schemas.
// It reports whether n was such a statement.
func (w *walker) schemaStmt(m any) bool {
	var names []string
	switch x := m.(type) {
	case *pg_query.DropStmt:
		if x.RemoveType != pg_query.ObjectType_OBJECT_SCHEMA {
			return false
		}
		for _, o := range x.Objects {
			if s := o.GetString_(); s != nil {
				names = append(names, s.Sval)
			}
		}
	case *pg_query.RenameStmt:
		if x.RenameType != pg_query.ObjectType_OBJECT_SCHEMA {
			return false
		}
		names = []string{x.Subname, x.Newname}
	case *pg_query.AlterOwnerStmt:
		if x.ObjectType != pg_query.ObjectType_OBJECT_SCHEMA {
			return false
		}
		if s := x.Object.GetString_(); s != nil {
			names = []string{s.Sval}
		}
	case *pg_query.GrantStmt:
		onSchema := x.Targtype == pg_query.GrantTargetType_ACL_TARGET_OBJECT && x.Objtype == pg_query.ObjectType_OBJECT_SCHEMA
		if !onSchema && x.Targtype != pg_query.GrantTargetType_ACL_TARGET_ALL_IN_SCHEMA {
			return false
		}
		for _, o := range x.Objects {
			if s := o.GetString_(); s != nil {
				names = append(names, s.Sval)
			}
		}
	default:
		return false
	}
	w.addSchemaNames(names)
	return true
}

// addSchemaNames records schema names (Statement.Schemas) that follow the keyword SCHEMA in the statement, in order;
// a name the scan does not find spans the statement.
func (w *walker) addSchemaNames(names []string) {
	pos, ok := w.findWord(w.stmtStart, "schema")
	for _, name := range names {
		if name == "" {
			continue
		}
		if ok {
			var sn scannedName
			if sn, ok = w.findName(pos, name); ok {
				w.schemas = append(w.schemas, Reference{
					Parts: sn.parts, Quoted: sn.quoted, Normalized: []string{name},
					Start: sn.start, End: sn.end, Role: Write, Statement: w.stmt,
				})
				pos = sn.end
				continue
			}
		}
		w.schemas = append(w.schemas, Reference{
			Parts: []string{name}, Quoted: []bool{name != asciiLower(name)}, Normalized: []string{name},
			Start: w.stmtStart, End: w.stmtEnd, Role: Write, Statement: w.stmt,
		})
	}
}

// findWord returns the offset after the first unquoted token equal to word (lower case) at or after i.
func (w *walker) findWord(i int, word string) (int, bool) {
	for {
		start, end, ok := w.nextToken(i)
		if !ok {
			return i, false
		}
		if end-start == len(word) && strings.EqualFold(w.sql[start:end], word) {
			return end, true
		}
		i = end
	}
}

// findName returns the first one-part identifier at or after i whose stored name is name.
func (w *walker) findName(i int, name string) (scannedName, bool) {
	for {
		start, end, ok := w.nextToken(i)
		if !ok {
			return scannedName{}, false
		}
		if sn, ok := nameAt(w.sql, start, 1); ok && sn.end == end && !sn.unicode[0] && sn.matches([]string{name}) {
			return sn, true
		}
		i = end
	}
}

// nextToken skips whitespace and comments from i and returns the span of the next token inside the statement:
// an identifier (bare or quoted), a string literal ('…', E'…', $tag$…$tag$) or a single other byte.
func (w *walker) nextToken(i int) (start, end int, ok bool) {
	s := w.sql[:w.stmtEnd]
	i = skipSpace(s, i)
	if i >= len(s) {
		return i, i, false
	}
	if _, _, _, e, ok := identAt(s, i); ok {
		if e < len(s) && s[e] == '\'' && e-i == 1 && (s[i] == 'e' || s[i] == 'E') {
			return i, skipString(s, e, true), true
		}
		return i, e, true
	}
	switch c := s[i]; {
	case c == '\'':
		return i, skipString(s, i, false), true
	case c == '$':
		if e, ok := dollarQuoteEnd(s, i); ok {
			return i, e, true
		}
	}
	return i, i + 1, true
}

// dollarQuoteEnd reports whether a dollar-quoted string ($$…$$ or $tag$…$tag$) opens at i, and the offset after its
// closing delimiter (len(s) when it is not closed). A parameter such as $1 is not a dollar quote.
func dollarQuoteEnd(s string, i int) (int, bool) {
	j := i + 1
	for j < len(s) && isIdentCont(s[j]) && s[j] != '$' {
		j++
	}
	if j >= len(s) || s[j] != '$' || (j > i+1 && s[i+1] >= '0' && s[i+1] <= '9') {
		return 0, false
	}
	tag := s[i : j+1]
	if k := strings.Index(s[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag), true
	}
	return len(s), true
}

// skipString returns the offset after the string literal whose opening quote is at i.
func skipString(s string, i int, backslash bool) int {
	for j := i + 1; j < len(s); j++ {
		switch {
		case backslash && s[j] == '\\':
			j++
		case s[j] == '\'':
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}
