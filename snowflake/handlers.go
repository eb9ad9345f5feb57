package snowflake

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// The login session parameters that are deferproxy's own: read at login, never forwarded. gosnowflake sends unknown
// DSN parameters as session parameters (…?DEFERPROXY_MODE=off); dbt-snowflake's profile can set only query_tag, so
// the same settings are also read, and taken out, as words of QUERY_TAG ("deferproxy.mode=favor_state").
const (
	ModeParam = "deferproxy.mode" // the session's mode: defer, favor_state or off
	TagParam  = "deferproxy.tag"  // deferproxy exec's tag: what the session did is reported to that command

	modeSessionParam = "DEFERPROXY_MODE"
	tagSessionParam  = "DEFERPROXY_TAG"
	queryTagParam    = "QUERY_TAG"
)

// exchange is what the front end must see of the upstream's answer to one request.
type exchange struct {
	kind  exchangeKind
	login *loginParams // exLogin
	token string       // exRenew: the old session token; exDelete: the session's token
	sess  *session     // exQuery
	sql   string       // exQuery: the text as the client sent it
}

type exchangeKind uint8

const (
	exLogin exchangeKind = iota + 1
	exRenew
	exDelete
	exQuery
)

type exchangeKey struct{}

// forward sends r upstream through the reverse proxy, with ex to be seen by modifyResponse.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, ex *exchange) {
	s.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
}

// badRequest answers a request whose body deferproxy could not read; it is not forwarded, since its text could not
// be decided.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("snowflake request not forwarded: its body could not be read", "path", r.URL.Path, "err", err)
	status := http.StatusBadRequest
	if errors.Is(err, errTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	writeError(w, status, errorBody{Code: codeBadRequest, SQLState: "08P01",
		Message: "deferproxy could not read the " + r.URL.Path + " request: " + err.Error()})
}

// query decides a query request's sqlText (also for describeOnly) and forwards it, or answers the refusal.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	tok := requestToken(r)
	if tok == "" {
		s.rp.ServeHTTP(w, r) // not logged in: the upstream says so
		return
	}
	ss := s.session(tok)
	if ss == nil {
		// Forwarding would bypass the write guard for a session whose user and target are unknown.
		writeError(w, http.StatusOK, errorBody{Code: codeNoSession, SQLState: "08003",
			Message: "deferproxy does not know this session: it did not see it log in (deferproxy restarted, or the session logged in elsewhere). Reconnect through deferproxy."})
		return
	}
	b, err := readBody(r, s.cfg.MaxBodySize)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	sql, at, found, err := stringField(b.json, "sqlText")
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	if !found {
		setBody(r, b.raw)
		s.rp.ServeHTTP(w, r)
		return
	}
	d := ss.decide(r.Context(), r.URL.Query().Get("requestId"), sql)
	if d.refusal != nil {
		writeError(w, http.StatusOK, refusalBody(d.refusal))
		return
	}
	if d.sql != sql {
		setBody(r, b.encode(withString(b.json, at, d.sql)))
	} else {
		setBody(r, b.raw)
	}
	s.forward(w, r, &exchange{kind: exQuery, sess: ss, sql: sql})
}

// abort forwards an abort request with the sqlText its query was forwarded with, so that the upstream matches it.
func (s *Server) abort(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(r, s.cfg.MaxBodySize)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	setBody(r, b.raw)
	if ss := s.session(requestToken(r)); ss != nil {
		sql, at, found, err1 := stringField(b.json, "sqlText")
		id, _, idFound, err2 := stringField(b.json, "requestId")
		if err1 == nil && err2 == nil && found && idFound {
			if sent, ok := ss.forwarded(id, sql); ok && sent != sql {
				setBody(r, b.encode(withString(b.json, at, sent)))
			}
		}
	}
	s.rp.ServeHTTP(w, r)
}

// loginParams is what the front end keeps of a login: who, where, and deferproxy's own settings.
type loginParams struct {
	User, App, Database, Schema, Role, Warehouse string
	Mode, Tag                                    string
	remote                                       string
}

// login takes deferproxy's own session parameters out of a login request and forwards it; modifyResponse opens the
// session when the upstream accepts it.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(r, s.cfg.MaxBodySize)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	q := r.URL.Query()
	p := &loginParams{Database: q.Get("databaseName"), Schema: q.Get("schemaName"), Role: q.Get("roleName"),
		Warehouse: q.Get("warehouse"), remote: r.RemoteAddr}
	js, err := consumeLogin(b.json, p)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	if p.Mode != "" && s.cfg.CheckMode != nil {
		if err := s.cfg.CheckMode(p.Mode); err != nil {
			writeError(w, http.StatusOK, errorBody{Code: codeBadRequest, SQLState: "22023",
				Message: "deferproxy: the login's " + ModeParam + " is invalid: " + err.Error()})
			return
		}
	}
	if js != nil {
		setBody(r, b.encode(js))
	} else {
		setBody(r, b.raw)
	}
	s.forward(w, r, &exchange{kind: exLogin, login: p})
}

// consumeLogin reads a login body's user, application and deferproxy's parameters into p. It returns the body to
// forward when deferproxy's parameters had to be taken out, nil when the body goes as sent.
func consumeLogin(js []byte, p *loginParams) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, errors.New("login body is not a JSON object")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(top["data"], &data); err != nil || data == nil {
		return nil, errors.New("login body has no data object")
	}
	_ = json.Unmarshal(data["LOGIN_NAME"], &p.User)
	_ = json.Unmarshal(data["CLIENT_APP_ID"], &p.App)
	raw, ok := data["SESSION_PARAMETERS"]
	if !ok {
		return nil, nil
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(raw, &params); err != nil || params == nil {
		return nil, nil // not deferproxy's to judge: the upstream answers
	}
	changed := false
	for k, v := range params {
		var val string
		switch strings.ToUpper(k) {
		case modeSessionParam:
			_ = json.Unmarshal(v, &val)
			p.Mode = val
		case tagSessionParam:
			_ = json.Unmarshal(v, &val)
			p.Tag = val
		case queryTagParam:
			if json.Unmarshal(v, &val) != nil {
				continue
			}
			kept, mode, tag, found := splitQueryTag(val)
			if !found {
				continue
			}
			if mode != "" {
				p.Mode = mode
			}
			if tag != "" {
				p.Tag = tag
			}
			changed = true
			if kept == "" {
				delete(params, k)
			} else {
				params[k], _ = json.Marshal(kept)
			}
			continue
		default:
			continue
		}
		delete(params, k)
		changed = true
	}
	if !changed {
		return nil, nil
	}
	var err error
	if data["SESSION_PARAMETERS"], err = json.Marshal(params); err != nil {
		return nil, err
	}
	if top["data"], err = json.Marshal(data); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}

// splitQueryTag takes deferproxy.mode=… and deferproxy.tag=… words (separated by blanks, ',' or ';') out of a
// QUERY_TAG; kept is the rest, joined by spaces.
func splitQueryTag(qt string) (kept, mode, tag string, found bool) {
	if !strings.Contains(strings.ToLower(qt), "deferproxy.") {
		return qt, "", "", false
	}
	var rest []string
	for _, w := range strings.FieldsFunc(qt, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == ',' || r == ';' }) {
		name, val, ok := strings.Cut(w, "=")
		switch {
		case ok && strings.EqualFold(name, ModeParam):
			mode, found = val, true
		case ok && strings.EqualFold(name, TagParam):
			tag, found = val, true
		default:
			rest = append(rest, w)
		}
	}
	if !found {
		return qt, "", "", false
	}
	return strings.Join(rest, " "), mode, tag, true
}

// renew forwards a token renewal; modifyResponse moves the session to the new token.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	b, err := readBody(r, s.cfg.MaxBodySize)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	setBody(r, b.raw)
	old, _, _, _ := stringField(b.json, "oldSessionToken")
	s.forward(w, r, &exchange{kind: exRenew, token: old})
}

// modifyResponse reads, without changing them, the upstream's answers the front end needs: the login's token, the
// renewed token, a delete's success, a statement's completion.
func (s *Server) modifyResponse(resp *http.Response) error {
	ex, _ := resp.Request.Context().Value(exchangeKey{}).(*exchange)
	if ex == nil {
		return nil
	}
	if ex.kind == exQuery {
		// The statement's response streams to the client as it comes; its first bytes are kept (up to
		// finalNamesLimit) so that when it ends the session learns the account's current database and schema.
		resp.Body = &statementEnd{ReadCloser: resp.Body, ss: ex.sess, sql: ex.sql,
			gzip: strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip"), ok: resp.StatusCode == http.StatusOK}
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	js, err := s.peekBody(resp)
	if err != nil {
		s.log.Warn("snowflake response not readable", "path", resp.Request.URL.Path, "err", err)
		return nil // forwarded as received; the session is not tracked
	}
	var out struct {
		Success bool `json:"success"`
		Data    struct {
			Token        string `json:"token"`
			SessionToken string `json:"sessionToken"`
			SessionInfo  struct {
				DatabaseName, SchemaName, RoleName, WarehouseName string
			} `json:"sessionInfo"`
		} `json:"data"`
	}
	if json.Unmarshal(js, &out) != nil || !out.Success {
		return nil
	}
	switch ex.kind {
	case exLogin:
		if out.Data.Token == "" {
			return nil
		}
		p := *ex.login
		si := out.Data.SessionInfo
		// The names as the client wrote them (as dbt writes them in its SQL) when it gave them; what the account
		// resolved them to (its folded, stored form) for those it left to the user's defaults.
		for _, f := range []struct {
			dst *string
			v   string
		}{{&p.Database, si.DatabaseName}, {&p.Schema, si.SchemaName},
			{&p.Role, si.RoleName}, {&p.Warehouse, si.WarehouseName}} {
			if *f.dst == "" {
				*f.dst = f.v
			}
		}
		ss := s.openSession(p, p.remote)
		s.register(out.Data.Token, ss)
		s.log.Info("snowflake session", "session", ss.info.ID, "user", p.User, "database", p.Database, "schema", p.Schema, "mode", ss.status().Mode)
	case exRenew:
		if !s.rekey(ex.token, out.Data.SessionToken) {
			s.log.Debug("snowflake token renewed for a session deferproxy does not know")
		}
	case exDelete:
		s.drop(ex.token)
	}
	return nil
}

// peekBody reads a response body whole, puts the same bytes back for the client, and returns it as JSON
// (decompressed when the upstream compressed it).
func (s *Server) peekBody(resp *http.Response) ([]byte, error) {
	orig := resp.Body
	raw, err := io.ReadAll(io.LimitReader(orig, s.cfg.MaxBodySize+1))
	// The client gets every byte: those read, then the rest.
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(raw), orig), orig}
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > s.cfg.MaxBodySize {
		return nil, errTooLarge
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(io.LimitReader(zr, s.cfg.MaxBodySize))
	}
	return raw, nil
}

// finalNamesLimit bounds what is kept of a query response to read its finalDatabaseName and finalSchemaName: a
// statement that changes the current schema (USE, CREATE SCHEMA, a procedure) answers with a small body; a larger
// one is a result set, which does not.
const finalNamesLimit = 256 << 10

// statementEnd passes a query response through unchanged and, when the client has read it (or the copy stopped),
// tells the session that the statement is over, with the current database and schema the account reported.
type statementEnd struct {
	io.ReadCloser
	ss   *session
	sql  string
	gzip bool
	ok   bool

	kept     bytes.Buffer
	overflow bool
	done     bool
}

func (e *statementEnd) Read(p []byte) (int, error) {
	n, err := e.ReadCloser.Read(p)
	if e.ok && !e.overflow {
		if e.kept.Len()+n > finalNamesLimit {
			e.overflow = true
			e.kept = bytes.Buffer{}
		} else {
			e.kept.Write(p[:n])
		}
	}
	return n, err
}

func (e *statementEnd) Close() error {
	err := e.ReadCloser.Close()
	if !e.done {
		e.done = true
		db, schema := "", ""
		if e.ok && !e.overflow {
			db, schema = finalNames(e.kept.Bytes(), e.gzip)
		}
		e.ss.afterStatement(e.sql, db, schema)
	}
	return err
}

// finalNames reads data.finalDatabaseName and data.finalSchemaName of a query response ("" when absent).
func finalNames(body []byte, gz bool) (string, string) {
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return "", ""
		}
		if body, err = io.ReadAll(io.LimitReader(zr, 4*finalNamesLimit)); err != nil {
			return "", ""
		}
	}
	var out struct {
		Data struct {
			FinalDatabaseName string `json:"finalDatabaseName"`
			FinalSchemaName   string `json:"finalSchemaName"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &out) != nil {
		return "", ""
	}
	return out.Data.FinalDatabaseName, out.Data.FinalSchemaName
}
