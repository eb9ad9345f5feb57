package rewrite

import "strings"

// This file holds the word-level reads of SQL text that need no parse: what the engine checks on every statement
// before deciding whether to analyse it, and what it checks on text that did not parse.

// SeveralStatements says whether sql may hold more than one statement: it has a semicolon besides the ones at its
// ends (with only whitespace around them), so "SELECT 1;" is one statement. It errs towards yes: a semicolon in a
// string or a comment counts.
func SeveralStatements(sql string) bool {
	return strings.IndexByte(strings.Trim(sql, " \t\r\n;"), ';') >= 0
}

// FirstWord returns the first keyword of sql after whitespace, semicolons and comments (ASCII letters only).
func FirstWord(sql string) string {
	i := 0
	for i < len(sql) {
		switch c := sql[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += end + 4
		default:
			j := i
			for j < len(sql) && ((sql[j]|0x20) >= 'a' && (sql[j]|0x20) <= 'z') {
				j++
			}
			return sql[i:j]
		}
	}
	return ""
}

// TxEffect is what a statement does to the transaction block, as far as its first words tell.
type TxEffect uint8

const (
	TxNone     TxEffect = iota
	TxBegin             // BEGIN, START TRANSACTION
	TxRollback          // ROLLBACK, ABORT (not ROLLBACK TO SAVEPOINT, which keeps the transaction open)
)

// TxControl reports whether sql, whose first word is first (FirstWord), opens or rolls back a transaction block.
func TxControl(first, sql string) TxEffect {
	switch {
	case first == "":
	case strings.EqualFold(first, "begin"), strings.EqualFold(first, "start"):
		return TxBegin
	case strings.EqualFold(first, "rollback"), strings.EqualFold(first, "abort"):
		if strings.Contains(strings.ToLower(sql), " to ") {
			return TxNone
		}
		return TxRollback
	}
	return TxNone
}

// WriteVerb reports whether a statement starting with word w can write: the verbs of DML and DDL, and WITH and
// SELECT (data-modifying CTEs and SELECT … INTO write too).
func WriteVerb(w string) bool {
	switch strings.ToLower(w) {
	case "insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "copy", "grant", "revoke",
		"comment", "refresh", "lock", "reindex", "cluster", "vacuum", "upsert", "replace", "rename", "with", "select":
		return true
	}
	return false
}

// ContainsFold reports, without allocating, whether s contains sub (ASCII, any case).
func ContainsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	c0, c1 := sub[0]|0x20, sub[0]&^0x20
	for i := 0; i+len(sub) <= len(s); i++ {
		if c := s[i]; c != c0 && c != c1 {
			continue
		}
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// ContainsWord reports whether word occurs in s, case-insensitively, not as part of a longer identifier.
func ContainsWord(s, word string) bool {
	if word == "" {
		return false
	}
	for i := 0; i+len(word) <= len(s); i++ {
		if !strings.EqualFold(s[i:i+len(word)], word) {
			continue
		}
		before := i == 0 || !isIdentCont(s[i-1])
		after := i+len(word) == len(s) || !isIdentCont(s[i+len(word)])
		if before && after {
			return true
		}
	}
	return false
}

// QuoteLiteral returns s as a string literal of dialect d (standard-conforming: only ' is doubled).
func QuoteLiteral(s string, d Dialect) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
