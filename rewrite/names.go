package rewrite

import "strings"

// This file reads relation names back out of the original text. pg_query gives a RangeVar's location (its first
// part) but not its end, and gives no location at all for the names of DROP, COMMENT ON and RENAME TO. Scanning the
// few bytes of the name ourselves keeps every span exact without deparsing anything.

// pgSpace reports PostgreSQL's whitespace (scan.l: [ \t\n\r\f\v]).
func pgSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// skipSpace returns the offset of the first byte at or after i that is not whitespace or part of a comment
// (-- to end of line; /* */ nested, as in PostgreSQL).
func skipSpace(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case pgSpace(c):
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			depth := 1
			i += 2
			for i < len(s) && depth > 0 {
				switch {
				case s[i] == '/' && i+1 < len(s) && s[i+1] == '*':
					depth++
					i += 2
				case s[i] == '*' && i+1 < len(s) && s[i+1] == '/':
					depth--
					i += 2
				default:
					i++
				}
			}
		default:
			return i
		}
	}
	return i
}

// identAt reads one identifier starting exactly at i. It returns the part as written (quotes removed, ""
// unescaped), whether it was quoted, and the offset after it. A U&"…" identifier is reported with unicode=true and
// its raw body (escapes not decoded); callers take its value from the parse tree. ok is false when no identifier
// starts at i.
func identAt(s string, i int) (part string, quoted, unicode bool, end int, ok bool) {
	if i >= len(s) {
		return "", false, false, i, false
	}
	if (s[i] == 'U' || s[i] == 'u') && i+2 < len(s) && s[i+1] == '&' && s[i+2] == '"' {
		body, e, ok := quotedAt(s, i+2)
		if !ok {
			return "", false, false, i, false
		}
		// Optional UESCAPE 'c' belongs to the identifier.
		j := skipSpace(s, e)
		if j+7 <= len(s) && strings.EqualFold(s[j:j+7], "uescape") && (j+7 == len(s) || !isIdentCont(s[j+7])) {
			k := skipSpace(s, j+7)
			if k+3 <= len(s) && s[k] == '\'' && s[k+2] == '\'' {
				e = k + 3
			}
		}
		return body, true, true, e, true
	}
	if s[i] == '"' {
		body, e, ok := quotedAt(s, i)
		return body, true, false, e, ok
	}
	if !isIdentStart(s[i]) {
		return "", false, false, i, false
	}
	j := i + 1
	for j < len(s) && isIdentCont(s[j]) {
		j++
	}
	return s[i:j], false, false, j, true
}

// quotedAt reads a "…" identifier whose opening quote is at i.
func quotedAt(s string, i int) (body string, end int, ok bool) {
	j := i + 1
	escaped := false
	for j < len(s) {
		if s[j] == '"' {
			if j+1 < len(s) && s[j+1] == '"' {
				escaped = true
				j += 2
				continue
			}
			body = s[i+1 : j]
			if escaped {
				body = strings.ReplaceAll(body, `""`, `"`)
			}
			return body, j + 1, true
		}
		j++
	}
	return "", i, false
}

// scannedName is a dotted name read from the text.
type scannedName struct {
	parts   []string
	quoted  []bool
	unicode []bool
	start   int
	end     int
}

// nameAt reads a name of exactly n parts starting at i (dots may be surrounded by whitespace and comments).
func nameAt(s string, i, n int) (scannedName, bool) {
	sn := scannedName{start: i, parts: make([]string, 0, n), quoted: make([]bool, 0, n), unicode: make([]bool, 0, n)}
	for k := 0; k < n; k++ {
		if k > 0 {
			j := skipSpace(s, i)
			if j >= len(s) || s[j] != '.' {
				return sn, false
			}
			i = skipSpace(s, j+1)
		}
		part, q, u, e, ok := identAt(s, i)
		if !ok {
			return sn, false
		}
		sn.parts = append(sn.parts, part)
		sn.quoted = append(sn.quoted, q)
		sn.unicode = append(sn.unicode, u)
		i = e
	}
	sn.end = i
	return sn, true
}

// matches reports whether the scanned parts name exactly want (the parse tree's normalised parts).
func (sn scannedName) matches(want []string) bool {
	if len(sn.parts) != len(want) {
		return false
	}
	for k, p := range sn.parts {
		if sn.unicode[k] {
			continue // escapes are decoded only by the parser; the tree's value is taken as is
		}
		if normalizePart(p, sn.quoted[k], Postgres) != want[k] {
			return false
		}
	}
	return true
}

// wordAt skips whitespace and comments from i and, when an unquoted word follows, returns it lower-cased and the
// offset after it.
func wordAt(s string, i int) (word string, end int, ok bool) {
	i = skipSpace(s, i)
	part, q, _, e, ok := identAt(s, i)
	if !ok || q {
		return "", i, false
	}
	return asciiLower(part), e, true
}

// skipWords skips the given keywords in order; ok is false when the text does not have them.
func skipWords(s string, i int, words ...string) (int, bool) {
	for _, w := range words {
		got, e, ok := wordAt(s, i)
		if !ok || got != w {
			return i, false
		}
		i = e
	}
	return i, true
}

// punctAt skips whitespace and comments and reports whether byte c follows; end is after it.
func punctAt(s string, i int, c byte) (end int, ok bool) {
	i = skipSpace(s, i)
	if i < len(s) && s[i] == c {
		return i + 1, true
	}
	return i, false
}
