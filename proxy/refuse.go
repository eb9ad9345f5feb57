package proxy

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// A refused statement is not simply dropped: the upstream session must end up as PostgreSQL itself would leave it
// after the error (an open transaction becomes failed; in the extended protocol everything up to Sync is skipped).
// So the proxy sends, instead of the statement, a DO block that raises the refusal's SQLSTATE on the server, and the
// upstream side swaps the server's ErrorResponse for the Hook's. For a Parse, the DO block needs its own Parse, Bind
// and Execute (a DO only raises when executed); their ParseComplete and BindComplete are swallowed, so the client sees
// an ErrorResponse where its ParseComplete would have been. The injected Parse uses the unnamed statement: a refused
// Parse of a named statement therefore also drops the session's unnamed statement (PostgreSQL would keep it).

// refusalSQL is the DO block raising e with SQLSTATE code. Every string is an E” literal with backslash, quote and
// dollar escaped, so neither standard_conforming_strings nor a "$deferproxy$" in the text can end it early.
func refusalSQL(e *pgproto3.ErrorResponse, code string) string {
	var b strings.Builder
	b.WriteString("DO $deferproxy$BEGIN RAISE EXCEPTION USING MESSAGE = ")
	writeLiteral(&b, e.Message)
	b.WriteString(", ERRCODE = '")
	b.WriteString(code)
	b.WriteString("'")
	if e.Detail != "" {
		b.WriteString(", DETAIL = ")
		writeLiteral(&b, e.Detail)
	}
	if e.Hint != "" {
		b.WriteString(", HINT = ")
		writeLiteral(&b, e.Hint)
	}
	b.WriteString("; END$deferproxy$")
	return b.String()
}

func writeLiteral(b *strings.Builder, s string) {
	b.WriteString("E'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '$':
			b.WriteString(`\x24`)
		case 0:
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
}

// raiseCode is the SQLSTATE the DO block raises: the refusal's own when it is a valid error code, else P0001
// (raise_exception). Class 00 (success) cannot be raised as an error.
func raiseCode(code string) string {
	if len(code) != 5 || strings.HasPrefix(code, "00") {
		return "P0001"
	}
	for i := 0; i < 5; i++ {
		c := code[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return "P0001"
		}
	}
	return code
}

// refusalExtended is Parse, Bind and Execute of the DO block in the unnamed statement and portal.
func refusalExtended(sql string) []byte {
	b := parseMessage(nil, sql, []byte{0, 0})
	// Bind: portal "", statement "", 0 parameter formats, 0 parameters, 0 result formats.
	b = append(b, 'B', 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0)
	// Execute: portal "", no row limit.
	return append(b, 'E', 0, 0, 0, 9, 0, 0, 0, 0, 0)
}
