// Package engine is the contract between the defer engine and its front ends, in plain Go terms: a front end (the
// PostgreSQL wire proxy today, an HTTP API such as Snowflake's next) opens a Session per client session, hands it
// every statement text and the transaction state, and maps the Verdict to its own protocol — notices and errors for
// PostgreSQL, a JSON response for an HTTP API.
//
// It imports nothing of deferproxy's, so that neither side needs the other: deferral implements Engine without
// knowing any wire protocol, and a front end speaks its protocol without knowing how the engine decides.
package engine

import (
	"context"
	"net"
)

// Engine is the defer engine as a front end sees it. One Engine serves every session of a process.
type Engine interface {
	// OpenSession is called once per client session, after the client has authenticated.
	OpenSession(ctx context.Context, info SessionInfo) Session
}

// Session is one client session's view of the engine. Statement is called from the goroutine that reads the
// client and Transaction from the one that reads the server, so implementations allow those two to run
// concurrently; each is called by one goroutine at a time.
type Session interface {
	// Statement decides one statement text (a string may hold several statements). A text that touches nothing
	// deferrable must cost no more than a prefilter: return Verdict{SQL: sql}.
	Statement(ctx context.Context, sql string) Verdict
	// Transaction reports the session's transaction state each time the server says it is ready for the next
	// statement (PostgreSQL's ReadyForQuery).
	Transaction(state TxState)
	// Parameter reports a run-time parameter as the server has it: PostgreSQL's ParameterStatus
	// (standard_conforming_strings, client_encoding, … at connect and whenever one changes), and search_path, which
	// the wire proxy asks the server for once at connect, before the session's first statement (role and database
	// defaults and startup options applied). The value ParameterUnknown says the front end could not learn it. It
	// is called from the goroutine that reads the server, like Transaction.
	Parameter(name, value string)
	// Close is called once when the session ends.
	Close()
}

// ParameterUnknown is the value Session.Parameter is given for a parameter the front end could not learn.
const ParameterUnknown = "\x00unknown"

// SchemaTracker is implemented by a Session whose warehouse reports the session's current database and schema
// with each result (Snowflake's finalDatabaseName and finalSchemaName): a front end passes them on after each
// statement, so unqualified and two-part names resolve where the server resolves them from the next statement on,
// whatever changed them (USE, CREATE SCHEMA, a stored procedure). Names as the server reports them (exact).
type SchemaTracker interface {
	CurrentSchema(database, schema string)
}

// SessionInfo describes an authenticated client session.
type SessionInfo struct {
	ID              uint64            // process-wide session number, for logs and status
	User            string            // the login user
	Database        string            // the database the session is connected to
	ApplicationName string            // what the client calls itself, if it says
	Params          map[string]string // every connection parameter exactly as the client sent it
	RemoteAddr      net.Addr
	// Dialect is the SQL dialect of the front end's warehouse; the zero value is PostgreSQL. A Snowflake session's
	// current schema at login is Params["schema"] (its current database is Database), both as the client wrote them:
	// unquoted names fold to upper case.
	Dialect Dialect
}

// Dialect names the SQL dialect a session's statements are written in.
type Dialect uint8

const (
	// PostgreSQL: the wire proxy's warehouse.
	PostgreSQL Dialect = iota
	// Snowflake: the Snowflake HTTP API front end's warehouse (unquoted identifiers fold to upper case).
	Snowflake
)

// String is the dialect's name as configuration and status spell it.
func (d Dialect) String() string {
	if d == Snowflake {
		return "snowflake"
	}
	return "postgres"
}

// TxState is a session's transaction state between statements.
type TxState uint8

const (
	// TxIdle: not in a transaction block.
	TxIdle TxState = iota
	// TxInBlock: in a transaction block.
	TxInBlock
	// TxFailed: in a failed transaction block; statements are refused until it ends.
	TxFailed
)

// Verdict is the engine's answer on one statement text. Its slices may be shared with the engine's caches: a front
// end reads them and never changes them.
type Verdict struct {
	// SQL is the text to forward. The input string returned unchanged means "forward the original".
	SQL string
	// Messages are told to the client before the statement's results, in order.
	Messages []Message
	// Refusal, when non-nil, stops the statement: the client gets this error instead of its results, and the
	// server's session is left as if the server itself had raised it (an open transaction becomes failed).
	Refusal *Refusal
	// Deferrals are the relation references rewritten to production, in text order.
	Deferrals []Deferral
	// DependsOn is what the verdict was drawn from.
	DependsOn Dependencies
}

// Severity is how a Message is told to the client.
type Severity uint8

const (
	// Notice is information: what was deferred.
	Notice Severity = iota
	// Warning is something the user should act on: a stale manifest, reads failing open.
	Warning
)

// String is PostgreSQL's name for the severity.
func (s Severity) String() string {
	if s == Warning {
		return "WARNING"
	}
	return "NOTICE"
}

// Message is one message for the client.
type Message struct {
	Severity Severity
	Text     string
	Detail   string // optional, a second line of context
}

// Refusal is an error that stops a statement.
type Refusal struct {
	// Code is a five-character SQLSTATE-like class and code ("42501": insufficient privilege; "22023": invalid
	// parameter value; "58000": system error).
	Code    string
	Message string
	Detail  string // optional
	Hint    string // optional: what to do about it
}

// Deferral is one relation reference rewritten to production.
type Deferral struct {
	Statement int    // index of the statement in the text
	From      string // the name as written
	To        string // the production name written in its place
	Node      string // the dbt node's unique_id, when known
}

// Dependencies is what a verdict was drawn from. A verdict stays right while all of it is unchanged: the session
// memo replays verdicts on that condition, and a front end that caches prepared statements can use it to decide when
// one must be prepared again.
type Dependencies struct {
	// Manifests identifies the manifests (production and dev) and dev target in use; 0: none loaded.
	Manifests uint64
	// Mode is the session's mode ("defer", "favor_state", "off"); "" when the verdict did not depend on it.
	Mode string
	// SearchPath is the session's search_path as unqualified names resolve in it.
	SearchPath []string
	// Listings are the dev catalog listings existence answers came from.
	Listings []Listing
	// CatalogView is the session's deferproxy.catalog_view ("on", "off") when the verdict depends on it; "" when it
	// cannot (dbt's sessions, Snowflake's).
	CatalogView string
	// Volatile says the verdict also depended on what this list cannot name (recent builds in favor_state, the
	// session's own uncommitted DDL, the statement's writes): it must not be replayed.
	Volatile bool
}

// Listing identifies one listing of a dev schema taken from the dev catalog. ID changes whenever the schema is
// listed again (after a TTL or DDL); 0 means the answer did not come from a listing that can be checked.
type Listing struct {
	Database, Schema string
	ID               uint64
}

// ServerError is an error the warehouse answered a statement with, as the front end decoded it. Only errors are
// decoded: everything else the warehouse sends stays the front end's business.
type ServerError struct {
	Code     string // SQLSTATE ("42P01": undefined_table)
	Message  string // the primary message, as the warehouse wrote it (it may be localised)
	Detail   string // optional
	Hint     string // optional: the warehouse's own hint
	Position int    // 1-based character position in the statement text; 0 when the error has none
}

// ErrorExplainer is implemented by a Session that can explain some of the warehouse's errors (a relation that does
// not exist because the engine could not map it to a dbt node, say). A front end that relays the warehouse's errors
// calls ServerError for each one on the goroutine that reads the server, and adds a non-empty answer to what the
// client gets as a hint, keeping everything else of the error as the warehouse sent it. It is an interface of its
// own, not a method of Session, so that front ends and wrappers that do not relay errors need not implement it.
type ErrorExplainer interface {
	// ServerError returns a hint for err, or "" to leave the error as it is. It must be cheap for errors it does not
	// explain (a comparison of the code).
	ServerError(ctx context.Context, err ServerError) (hint string)
}

// Checker is implemented by a Session that can tell whether a verdict drawn earlier still stands. A front end that
// keeps prepared statements asks it before each use of one (PostgreSQL's Bind): Current must cost next to nothing
// when nothing changed — comparisons of ids and the session's settings, no allocation, no round trip — and report
// false when any of deps (manifests, mode, search_path, a dev catalog listing) changed or is Volatile; the front end
// then decides the statement's text again and prepares it again when the new text differs.
type Checker interface {
	Current(deps Dependencies) bool
}
