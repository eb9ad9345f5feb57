package proxy

import (
	"encoding/binary"
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/deferproxy/deferproxy/engine"
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

// serverError decodes the fields of an ErrorResponse body a Hook may explain.
func serverError(body []byte) engine.ServerError {
	var e engine.ServerError
	for i := 0; i < len(body) && body[i] != 0; {
		ft := body[i]
		i++
		j := i
		for j < len(body) && body[j] != 0 {
			j++
		}
		v := body[i:j]
		switch ft {
		case 'C':
			e.Code = string(v)
		case 'M':
			e.Message = string(v)
		case 'D':
			e.Detail = string(v)
		case 'H':
			e.Hint = string(v)
		case 'P':
			e.Position, _ = strconv.Atoi(string(v))
		}
		i = j + 1
	}
	return e
}

// withHint returns the ErrorResponse msg (header included) with hint added: appended on a new line to the server's
// own hint ('H'), or as a new hint field at the end. Every other byte is the server's. nil when msg is not a
// well-formed ErrorResponse (it is then forwarded as it is).
func withHint(msg []byte, hint string) []byte {
	if len(msg) < 6 || msg[len(msg)-1] != 0 {
		return nil
	}
	body := msg[5:]
	// The last 'H' is the one a client keeps (PostgreSQL sends at most one).
	lastH, i := -1, 0
	for i < len(body) && body[i] != 0 {
		j := i + 1
		for j < len(body) && body[j] != 0 {
			j++
		}
		if j >= len(body) {
			return nil // a field without its NUL
		}
		if body[i] == 'H' {
			lastH = i
		}
		i = j + 1
	}
	if i != len(body)-1 {
		return nil // bytes after the terminating NUL
	}
	out := make([]byte, 0, len(msg)+len(hint)+2)
	out = append(out, msg[:5]...)
	for i = 0; body[i] != 0; {
		j := i + 1
		for body[j] != 0 {
			j++
		}
		out = append(out, body[i:j]...)
		if i == lastH {
			out = append(out, '\n')
			out = append(out, hint...)
		}
		out = append(out, 0)
		i = j + 1
	}
	if lastH < 0 {
		out = append(out, 'H')
		out = append(out, hint...)
		out = append(out, 0)
	}
	out = append(out, 0)
	binary.BigEndian.PutUint32(out[1:5], uint32(len(out)-1))
	return out
}
