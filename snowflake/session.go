package snowflake

import (
	"context"
	"hash/maphash"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deferproxy/deferproxy/engine"
)

// session is one Snowflake session that logged in through the listener, keyed by its session token.
type session struct {
	s     *Server
	info  engine.SessionInfo
	eng   engine.Session
	login loginParams
	since time.Time
	used  atomic.Int64 // unix nanoseconds of the last request

	statements, deferrals, refusals atomic.Uint64

	mu      sync.Mutex // one engine call at a time; guards tx and retries
	tx      engine.TxState
	retries retryCache
	closed  bool
}

// openSession starts the engine's session for a login the upstream accepted.
func (s *Server) openSession(p loginParams, remote string) *session {
	id := IDBase + s.nextID.Add(1)
	params := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			params[k] = v
		}
	}
	set("database", p.Database)
	set("schema", p.Schema)
	set("role", p.Role)
	set("warehouse", p.Warehouse)
	set("search_path", p.Schema)
	set(ModeParam, p.Mode)
	set(TagParam, p.Tag)
	info := engine.SessionInfo{ID: id, User: p.User, Database: p.Database, ApplicationName: p.App, Params: params,
		Dialect: engine.Snowflake}
	if ap, err := net.ResolveTCPAddr("tcp", remote); err == nil {
		info.RemoteAddr = ap
	}
	ss := &session{s: s, info: info, login: p, since: time.Now()}
	ss.used.Store(ss.since.UnixNano())
	ss.eng = s.cfg.Engine.OpenSession(context.Background(), info)
	s.logins.Add(1)
	return ss
}

// session finds the session of a token and marks it used; nil when none.
func (s *Server) session(token string) *session {
	if token == "" {
		return nil
	}
	s.mu.Lock()
	ss := s.byToken[token]
	s.mu.Unlock()
	if ss != nil {
		ss.used.Store(time.Now().UnixNano())
	}
	return ss
}

// register keys ss by token, and forgets sessions idle past Config.SessionIdle (checked at most once a minute).
func (s *Server) register(token string, ss *session) {
	now := time.Now()
	var idle []*session
	s.mu.Lock()
	s.byToken[token] = ss
	if now.Sub(s.lastSweep) > time.Minute {
		s.lastSweep = now
		for tok, o := range s.byToken {
			if now.Sub(time.Unix(0, o.used.Load())) > s.cfg.SessionIdle {
				delete(s.byToken, tok)
				idle = append(idle, o)
			}
		}
	}
	s.mu.Unlock()
	for _, o := range idle {
		s.log.Info("snowflake session forgotten after being idle", "session", o.info.ID, "idle", s.cfg.SessionIdle)
		o.close()
	}
}

// rekey moves a session from its old token to the renewed one (POST /session/token-request).
func (s *Server) rekey(old, renewed string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byToken[old]
	if ss == nil || renewed == "" {
		return false
	}
	delete(s.byToken, old)
	s.byToken[renewed] = ss
	return true
}

// drop ends the session of a token (POST /session?delete=true).
func (s *Server) drop(token string) {
	s.mu.Lock()
	ss := s.byToken[token]
	delete(s.byToken, token)
	s.mu.Unlock()
	if ss != nil {
		ss.close()
	}
}

func (ss *session) close() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	ss.closed = true
	ss.eng.Close()
}

// decision is the engine's answer on one request's sqlText, as forwarded.
type decision struct {
	sql     string
	refusal *engine.Refusal
}

// decide runs sqlText through the engine, or replays the decision of an earlier try of the same requestId: the
// connectors resend a request with the same requestId on a retry, and the retry must carry the same text (it is
// counted once).
func (ss *session) decide(ctx context.Context, requestID, sql string) decision {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	h := maphash.String(ss.s.seed(), sql)
	if requestID != "" {
		if d, ok := ss.retries.get(requestID, h); ok {
			return d
		}
	}
	v := ss.eng.Statement(ctx, sql)
	d := decision{sql: v.SQL, refusal: v.Refusal}
	ss.statements.Add(1)
	ss.s.statements.Add(1)
	if v.Refusal != nil {
		ss.refusals.Add(1)
		ss.s.refusals.Add(1)
		ss.s.log.Info("snowflake statement refused", "session", ss.info.ID, "code", v.Refusal.Code, "message", v.Refusal.Message)
	} else if n := uint64(len(v.Deferrals)); n > 0 {
		ss.deferrals.Add(n)
		ss.s.deferrals.Add(n)
		for _, df := range v.Deferrals {
			ss.s.log.Debug("snowflake deferral", "session", ss.info.ID, "from", df.From, "to", df.To, "node", df.Node)
		}
	}
	for _, m := range v.Messages {
		if m.Severity == engine.Warning {
			// Snowflake has no notices: warnings go to the log, deferrals to /status.
			ss.s.log.Warn("snowflake session warning", "session", ss.info.ID, "text", m.Text, "detail", m.Detail)
		}
	}
	if requestID != "" {
		ss.retries.put(requestID, h, d)
	}
	return d
}

// forwarded returns the text sent for requestID when its sqlText was sql (for an abort request, which names the
// query by requestId and repeats its text); ok false when this session did not decide it.
func (ss *session) forwarded(requestID, sql string) (string, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	d, ok := ss.retries.get(requestID, maphash.String(ss.s.seed(), sql))
	if !ok || d.refusal != nil {
		return "", false
	}
	return d.sql, true
}

// schemaTracker is engine.SchemaTracker: an engine session that follows the account's current database and schema.
// (Asserted by its method so that this front end works with engines that do not track them.)
type schemaTracker interface {
	CurrentSchema(database, schema string)
}

// afterStatement tells the engine, once the upstream has answered a statement, the current database and schema the
// account reported ("" when it did not) and the transaction state: Snowflake commits each statement unless BEGIN
// opened a block, which COMMIT or ROLLBACK closes; an error does not end it.
func (ss *session) afterStatement(sql, database, schema string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	if st, ok := ss.eng.(schemaTracker); ok && database != "" && schema != "" {
		st.CurrentSchema(database, schema)
	}
	switch txWord(sql) {
	case "BEGIN", "START":
		ss.tx = engine.TxInBlock
	case "COMMIT", "ROLLBACK":
		ss.tx = engine.TxIdle
	}
	ss.eng.Transaction(ss.tx)
}

func (ss *session) status() SessionStatus {
	mode := ss.login.Mode
	if mode == "" {
		mode = "default"
	}
	return SessionStatus{ID: ss.info.ID, User: ss.login.User, Database: ss.login.Database, Schema: ss.login.Schema,
		Role: ss.login.Role, Mode: mode, Tag: ss.login.Tag, Since: ss.since, Statements: ss.statements.Load(),
		Deferrals: ss.deferrals.Load(), Refusals: ss.refusals.Load()}
}

func sortSessions(ss []SessionStatus) {
	sort.Slice(ss, func(i, j int) bool { return ss[i].ID < ss[j].ID })
}

// retryCache remembers the last decisions of a session by requestId (bounded, oldest forgotten first).
type retryCache struct {
	keys []string
	byID map[string]retryEntry
}

type retryEntry struct {
	hash uint64 // of the sqlText as sent: a requestId reused for another text is decided anew
	d    decision
}

const retryCacheSize = 64

func (c *retryCache) get(id string, h uint64) (decision, bool) {
	e, ok := c.byID[id]
	if !ok || e.hash != h {
		return decision{}, false
	}
	return e.d, true
}

func (c *retryCache) put(id string, h uint64, d decision) {
	if c.byID == nil {
		c.byID = map[string]retryEntry{}
	}
	if _, ok := c.byID[id]; !ok {
		if len(c.keys) == retryCacheSize {
			delete(c.byID, c.keys[0])
			c.keys = c.keys[1:]
		}
		c.keys = append(c.keys, id)
	}
	c.byID[id] = retryEntry{hash: h, d: d}
}

// txWord is the first word of a statement text, upper-cased, after blanks and comments: enough to see BEGIN, START
// TRANSACTION, COMMIT and ROLLBACK (dbt appends its query comment, other clients may prepend one).
func txWord(sql string) string {
	i := 0
	for i < len(sql) {
		switch c := sql[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ';':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '/' && i+1 < len(sql) && sql[i+1] == '/':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += 2 + end + 2
		default:
			j := i
			for j < len(sql) && (sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z') {
				j++
			}
			w := []byte(sql[i:j])
			for k, b := range w {
				if b >= 'a' {
					w[k] = b - 32
				}
			}
			return string(w)
		}
	}
	return ""
}
