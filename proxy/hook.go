package proxy

import (
	"context"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"
)

// SessionInfo describes an authenticated client session to a Hook.
type SessionInfo struct {
	ID              uint64            // proxy-wide session number, for logs and status
	User            string            // startup parameter "user"
	Database        string            // startup parameter "database" (defaults to User, as PostgreSQL does)
	ApplicationName string            // startup parameter "application_name"
	Params          map[string]string // every startup parameter exactly as the client sent it
	RemoteAddr      net.Addr
}

// StatementKind says which protocol message carried a statement.
type StatementKind int

const (
	// SimpleQuery is the text of a 'Q' message; it may hold several statements.
	SimpleQuery StatementKind = iota
	// ExtendedParse is the query text of a 'P' (Parse) message; exactly one statement.
	ExtendedParse
)

// StatementResult is a Hook's verdict on one statement text.
type StatementResult struct {
	// SQL is the text to forward. Returning the input string unchanged means "forward the original bytes".
	SQL string
	// Notices are sent to the client before the statement's results (NoticeResponse, severity NOTICE or WARNING).
	Notices []*pgproto3.NoticeResponse
	// Refuse, when non-nil, stops the statement: the client receives this error (with its SQLSTATE) and the upstream
	// session is left in the state PostgreSQL itself would leave it after raising that error (an open transaction
	// becomes failed).
	Refuse *pgproto3.ErrorResponse
}

// Hook lets the defer engine see and change the statements of every session. A nil Hook makes the proxy a pure
// pass-through.
type Hook interface {
	// OpenSession is called once per session after authentication has succeeded upstream.
	OpenSession(ctx context.Context, info SessionInfo) SessionHook
}

// SessionHook is one session's view of the Hook. Statement is called from the session's client-reading goroutine and
// ReadyForQuery from its upstream-reading goroutine, so implementations must allow those two to run concurrently.
type SessionHook interface {
	// Statement is called with the text of every Query and Parse message. A statement that needs no change must cost
	// no more than a prefilter: return StatementResult{SQL: sql}.
	Statement(ctx context.Context, kind StatementKind, sql string) StatementResult
	// ReadyForQuery is called with the transaction status ('I', 'T' or 'E') of every ReadyForQuery sent upstream→client.
	ReadyForQuery(txStatus byte)
	// Close is called once when the session ends.
	Close()
}
