package proxy

import (
	"context"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/deferproxy/deferproxy/engine"
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
	// DependsOn is what the verdict was drawn from. With a SessionHook that is also a StatementChecker, the proxy
	// keeps it with each named prepared statement and prepares the statement again when it stops being current.
	DependsOn engine.Dependencies
}

// StatementChecker is a SessionHook that can tell whether a verdict is still current (engine.Checker). The proxy asks
// it at each Bind and Describe of a named statement it keeps; when it says no, the statement's text is decided
// again and, if the text changed, the statement is prepared again under its name (prepared.go, SPEC §10).
type StatementChecker interface {
	Current(deps engine.Dependencies) bool
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

// ErrorHinter is an optional interface of a SessionHook. When the session's hook implements it, the proxy decodes each
// ErrorResponse the server sends the client (errors only: every other message stays raw bytes) and hands it to
// ErrorHint; a non-empty answer becomes the error's hint (after the server's own hint, if it sent one), and every
// other field reaches the client byte for byte as the server sent it.
type ErrorHinter interface {
	ErrorHint(ctx context.Context, err engine.ServerError) (hint string)
}

// ParameterHook is an optional interface of a SessionHook: Parameter is called, from the upstream-reading goroutine,
// with every ParameterStatus the server sends (at startup and whenever a reported setting changes) and with
// search_path, which the proxy asks the server for once after authentication (value engine.ParameterUnknown when
// the server did not answer), all before the session's first statement is answered.
type ParameterHook interface {
	Parameter(name, value string)
}

// EngineHook makes a defer engine (the protocol-neutral contract of package engine) the proxy's Hook: verdicts map to
// PostgreSQL's messages — a Message to a NoticeResponse (SQLSTATE 00000 for a NOTICE, 01000 for a WARNING), a
// Refusal to an ErrorResponse with its code — and ReadyForQuery's status byte to the session's transaction state.
func EngineHook(e engine.Engine) Hook { return engineHook{e} }

type engineHook struct{ e engine.Engine }

func (h engineHook) OpenSession(ctx context.Context, info SessionInfo) SessionHook {
	s := h.e.OpenSession(ctx, engine.SessionInfo{ID: info.ID, User: info.User, Database: info.Database,
		ApplicationName: info.ApplicationName, Params: info.Params, RemoteAddr: info.RemoteAddr})
	x, explains := s.(engine.ErrorExplainer)
	c, checks := s.(engine.Checker)
	switch {
	case explains && checks:
		return checkedExplainingSession{explainingSession{engineSession{s}, x}, c}
	case explains:
		return explainingSession{engineSession{s}, x}
	case checks:
		return checkedSession{engineSession{s}, c}
	}
	return engineSession{s}
}

type engineSession struct{ s engine.Session }

// explainingSession is an engine session that explains server errors: only then does the proxy decode them.
type explainingSession struct {
	engineSession
	x engine.ErrorExplainer
}

func (s explainingSession) ErrorHint(ctx context.Context, err engine.ServerError) string {
	return s.x.ServerError(ctx, err)
}

func (s engineSession) Statement(ctx context.Context, _ StatementKind, sql string) StatementResult {
	return statementResult(s.s.Statement(ctx, sql))
}

func (s engineSession) ReadyForQuery(txStatus byte) {
	switch txStatus {
	case 'T':
		s.s.Transaction(engine.TxInBlock)
	case 'E':
		s.s.Transaction(engine.TxFailed)
	default:
		s.s.Transaction(engine.TxIdle)
	}
}

func (s engineSession) Close() { s.s.Close() }

func (s engineSession) Parameter(name, value string) { s.s.Parameter(name, value) }

// checkedSession is an engine session that can check its verdicts: the proxy keeps its named statements current.
type checkedSession struct {
	engineSession
	c engine.Checker
}

func (s checkedSession) Current(deps engine.Dependencies) bool { return s.c.Current(deps) }

// checkedExplainingSession is an engine session that does both.
type checkedExplainingSession struct {
	explainingSession
	c engine.Checker
}

func (s checkedExplainingSession) Current(deps engine.Dependencies) bool { return s.c.Current(deps) }

// statementResult maps a verdict to the proxy's terms.
func statementResult(v engine.Verdict) StatementResult {
	res := StatementResult{SQL: v.SQL, DependsOn: v.DependsOn}
	if len(v.Messages) > 0 {
		ns := make([]pgproto3.NoticeResponse, len(v.Messages))
		res.Notices = make([]*pgproto3.NoticeResponse, len(v.Messages))
		for i, m := range v.Messages {
			n := &ns[i]
			n.Severity, n.Code = "NOTICE", "00000"
			if m.Severity == engine.Warning {
				n.Severity, n.Code = "WARNING", "01000"
			}
			n.SeverityUnlocalized, n.Message, n.Detail = n.Severity, m.Text, m.Detail
			res.Notices[i] = n
		}
	}
	if r := v.Refusal; r != nil {
		res.Refuse = &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: r.Code,
			Message: r.Message, Detail: r.Detail, Hint: r.Hint}
	}
	return res
}
