package proxy

import (
	"github.com/jackc/pgx/v5/pgproto3"
)

// SQLSTATEs of the errors the proxy itself sends to clients.
const (
	codeProtocolViolation   = "08P01" // malformed or oversized message, bad startup packet
	codeConnectionFailure   = "08006" // the upstream connection was lost
	codeCannotConnect       = "08001" // the upstream could not be reached
	codeTooManyConnections  = "53300" // MaxClientConns reached
	codeAdminShutdown       = "57P01" // graceful shutdown ran out of time
	codeIdleSessionTimeout  = "57P05" // IdleTimeout passed with no statement in flight
	codeFeatureNotSupported = "0A000"
	codeInvalidAuthSpec     = "28000"
)

// errorMessage builds the wire bytes of an ErrorResponse the proxy sends on its own behalf. Every error that reaches a
// client from the proxy is built here, so each carries a SQLSTATE.
func errorMessage(severity, code, message, detail, hint string) []byte {
	e := &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                code,
		Message:             message,
		Detail:              detail,
		Hint:                hint,
	}
	b, err := e.Encode(nil)
	if err != nil {
		// Encode fails only for messages over 1 GiB; ours are short.
		panic(err)
	}
	return b
}

// fatal builds a FATAL ErrorResponse.
func fatal(code, message string) []byte { return errorMessage("FATAL", code, message, "", "") }

// encodeHookError encodes an ErrorResponse from the Hook, filling in the severity PostgreSQL would give a refused
// statement when the Hook left it empty.
func encodeHookError(e *pgproto3.ErrorResponse) []byte {
	c := *e
	if c.Severity == "" {
		c.Severity = "ERROR"
	}
	if c.SeverityUnlocalized == "" {
		c.SeverityUnlocalized = c.Severity
	}
	if c.Code == "" {
		c.Code = "42501"
	}
	b, err := c.Encode(nil)
	if err != nil {
		return errorMessage("ERROR", c.Code, "statement refused by deferproxy", "", "")
	}
	return b
}

// errorCode returns the SQLSTATE ('C' field) of an ErrorResponse or NoticeResponse body without decoding the rest.
func errorCode(body []byte) string {
	c, _ := errorField(body, 'C')
	return c
}

// errorSeverity returns the non-localized severity ('V', else 'S') of an ErrorResponse body.
func errorSeverity(body []byte) string {
	if v, ok := errorField(body, 'V'); ok {
		return v
	}
	s, _ := errorField(body, 'S')
	return s
}

// errorField returns the value of field t of an ErrorResponse or NoticeResponse body (type byte, text, NUL; a final
// NUL ends the list) without decoding the rest.
func errorField(body []byte, t byte) (string, bool) {
	for i := 0; i < len(body) && body[i] != 0; {
		ft := body[i]
		i++
		j := i
		for j < len(body) && body[j] != 0 {
			j++
		}
		if ft == t {
			return string(body[i:j]), true
		}
		i = j + 1
	}
	return "", false
}
