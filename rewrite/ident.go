package rewrite

import "strings"

//go:generate go run ./internal/kwgen -o keywords_pg.go

// pgMaxIdentLen is NAMEDATALEN-1: PostgreSQL truncates longer identifiers (at a character boundary).
const pgMaxIdentLen = 63

// FoldIdent folds an unquoted identifier the way the warehouse does: PostgreSQL lower-cases ASCII letters only
// (downcase_identifier in a UTF-8 database), Snowflake upper-cases them. Quoted identifiers are never folded.
func FoldIdent(part string, d Dialect) string {
	if d == Snowflake {
		return asciiUpper(part)
	}
	return asciiLower(part)
}

// QuoteIdent returns part as it must be written in SQL: bare when the warehouse would read it back unchanged,
// double-quoted (with " doubled) otherwise. For PostgreSQL it matches quote_ident(): bare only for
// [a-z_][a-z0-9_]* that is not a reserved, column-name or type/function-name keyword; anything else — upper
// case, $, non-ASCII, a leading digit — is quoted. For Snowflake the safe form is [A-Z_][A-Z0-9_$]* and not a
// reserved word.
func QuoteIdent(part string, d Dialect) string {
	if identSafe(part, d) {
		return part
	}
	return `"` + strings.ReplaceAll(part, `"`, `""`) + `"`
}

func identSafe(part string, d Dialect) bool {
	if part == "" {
		return false
	}
	for i := 0; i < len(part); i++ {
		c := part[i]
		switch {
		case c == '_':
		case d == Snowflake && c >= 'A' && c <= 'Z', d != Snowflake && c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9', d == Snowflake && c == '$':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	if d == Snowflake {
		return !snowflakeReserved(part)
	}
	return !pgQuoteKeyword(part)
}

// normalizePart is the name PostgreSQL stores for one written part: unquoted parts folded, both kinds truncated
// to 63 bytes without splitting a UTF-8 character (truncate_identifier).
func normalizePart(part string, quoted bool, d Dialect) string {
	if !quoted {
		part = FoldIdent(part, d)
	}
	if d == Postgres && len(part) > pgMaxIdentLen {
		n := pgMaxIdentLen
		for n > 0 && part[n]&0xC0 == 0x80 { // back off to the start of the character that would be split
			n--
		}
		part = part[:n]
	}
	return part
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'a' && c <= 'z' {
					b[j] = c - ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return s
}

// snowflakeReserved reports whether word (upper case) is reserved in Snowflake and so cannot be a bare identifier
// (docs.snowflake.com "Reserved & limited keywords").
func snowflakeReserved(word string) bool {
	switch word {
	case "ACCOUNT", "ALL", "ALTER", "AND", "ANY", "AS", "BETWEEN", "BY", "CASE", "CAST", "CHECK", "COLUMN",
		"CONNECT", "CONNECTION", "CONSTRAINT", "CREATE", "CROSS", "CURRENT", "CURRENT_DATE", "CURRENT_TIME",
		"CURRENT_TIMESTAMP", "CURRENT_USER", "DATABASE", "DELETE", "DISTINCT", "DROP", "ELSE", "EXISTS", "FALSE",
		"FOLLOWING", "FOR", "FROM", "FULL", "GRANT", "GROUP", "GSCLUSTER", "HAVING", "ILIKE", "IN", "INCREMENT",
		"INNER", "INSERT", "INTERSECT", "INTO", "IS", "ISSUE", "JOIN", "LATERAL", "LEFT", "LIKE", "LOCALTIME",
		"LOCALTIMESTAMP", "MINUS", "NATURAL", "NOT", "NULL", "OF", "ON", "OR", "ORDER", "ORGANIZATION", "QUALIFY",
		"REGEXP", "REVOKE", "RIGHT", "RLIKE", "ROW", "ROWS", "SAMPLE", "SCHEMA", "SELECT", "SET", "SOME", "START",
		"TABLE", "TABLESAMPLE", "THEN", "TO", "TRIGGER", "TRUE", "TRY_CAST", "UNION", "UNIQUE", "UPDATE", "USING",
		"VALUES", "VIEW", "WHEN", "WHENEVER", "WHERE", "WITH":
		return true
	}
	return false
}

// isIdentStart reports whether c can start an unquoted identifier (PostgreSQL's scan.l ident_start; Snowflake's
// rule is the same for the bytes that matter here): a letter, an underscore or any byte of a multi-byte character.
func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

// isIdentCont reports whether c can continue an unquoted identifier (ident_cont: also digits and $).
func isIdentCont(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}
