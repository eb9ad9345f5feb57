package deferral

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/age"
	"github.com/deferproxy/deferproxy/rewrite"
)

// session is one client session's view of the engine (engine.Session). Statement runs on the front end's
// client-reading goroutine and Transaction on its server-reading goroutine; mu guards what both touch.
type session struct {
	e      *Engine
	info   engine.SessionInfo
	target targetKey
	since  time.Time
	// dialect is the SQL the front end's warehouse speaks (engine.SessionInfo.Dialect): Snowflake sessions are read
	// by the lexer, resolve names in their current database and schema, and use the Snowflake dev catalog.
	dialect rewrite.Dialect

	deferrals atomic.Uint64
	memo      memo // repeated statements (memo.go); client-reading goroutine only
	// lastTarget is the target state of the session's latest statement (targetFor). After a reload an idle session
	// keeps the old one alive until its next statement; the sessions of one dev target share that one state.
	lastTarget atomic.Pointer[targetState]

	mu sync.Mutex
	// mode is deferproxy.mode and view deferproxy.catalog_view (SPEC §5.6), transactional like any setting.
	mode txSetting[catalog.Mode]
	view txSetting[bool]
	// txState is the latest transaction state; beginSeen says a BEGIN was sent since then (pipelined).
	txState      engine.TxState
	beginSeen    bool
	rollbackSeen bool
	// path is the committed search_path, pathTx its state inside the open transaction, startPath the session's
	// starting value (RESET returns to it); roles are the login user and every role SET ROLE/SESSION AUTHORIZATION
	// named since ("$user" may stand for any; the last is current). searchPath and scope are the path in effect
	// (what unqualified reads resolve in); guardScopes and pathUnknown what unqualified writes are judged by
	// (searchpath.go). pathVersion counts changes (for pathFilter, the memo and pathRisk).
	path, startPath pathState
	pathTx          *pathTx
	roles           []string
	searchPath      []string
	scope           catalog.Scope
	guardScopes     []catalog.Scope
	pathUnknown     bool
	pathVersion     int
	// started: a statement has been seen (the connect-time search_path report no longer applies).
	started atomic.Bool
	// scsOff and encoding are standard_conforming_strings (off) and client_encoding as the server last reported
	// them; scsMaybe and encMaybe say a statement may have changed them since (reading.go). Atomics: the server's
	// reports arrive on the other goroutine.
	scsOff, scsMaybe, encMaybe atomic.Bool
	encoding                   atomic.Pointer[string]
	// risk caches pathRiskLocked for riskTS at riskVersion.
	risk        bool
	riskTS      uint64
	riskVersion int
	// pathFilter matches the identifiers unqualified names could use when the search_path reaches a schema that
	// matters; built for pathFilterTS at pathFilterVersion.
	pathFilter        *rewrite.Prefilter
	pathFilterTS      uint64 // targetState.id (not the state: an idle session must not keep old manifests alive)
	pathFilterVersion int
	// Dev catalog overlay of the open transaction: relations this session created (true) or dropped (false), and
	// the schemas its DDL touched (invalidated in the shared dev catalog when the transaction ends).
	overlay    map[catalog.Relation]bool
	ddlSchemas map[catalog.SchemaName]struct{}
	ddlUnknown bool // DDL whose targets are not known (DROP SCHEMA …): invalidate everything
	// temps are unqualified relation names this session created (temp tables are session-scoped; never deferred).
	temps map[string]struct{}
	// dbt: the session is dbt's (application_name "dbt…", dbt-postgres's default): its catalog queries get the
	// introspection rewrite of SPEC §5.5 (other sessions' only when a statement carries dbt's query comment).
	// mu guards it and app, the application_name the server last reported: a client may set it after connecting.
	dbt bool
	app string
	// viewFromApp: the catalog view's connect-time value came from catalog_view_apps (no startup option), so it
	// follows application_name.
	viewFromApp bool
	// once-per-session messages
	toldNoManifest, warnedParse, warnedCatalog, toldRun, warnedStale bool
}

func newSession(e *Engine, info engine.SessionInfo) *session {
	s := &session{
		e:     e,
		info:  info,
		since: time.Now(),
	}
	mode := catalog.Mode(e.defaultMode.Load())
	db := e.cfg.DevDatabase
	if db == "" {
		db = info.Database
	}
	s.target = targetKey{database: db, schema: catalog.ExpandSchemaTemplate(e.cfg.DevSchema, strings.ToLower(info.User))}
	s.dbt, s.app = isDbtApp(info.ApplicationName), info.ApplicationName
	s.roles = []string{info.User}
	s.startPath = pathState{raw: defaultSearchPath}
	if info.Dialect == engine.Snowflake {
		s.dialect = rewrite.Snowflake
		s.target.database, s.target.schema = snowflakeName(s.target.database), snowflakeName(s.target.schema)
	}
	set := startupSettings(info.Params)
	s.target.tag = set[tagGUC]
	if v, ok := set["search_path"]; ok {
		s.startPath = pathState{raw: rewrite.SplitList(v)}
	}
	s.path = s.startPath
	s.pathChangedLocked()
	if s.dialect == rewrite.Snowflake {
		s.setSnowflakeScopeLocked(snowflakeName(info.Database), snowflakeName(info.Params["schema"]))
	}
	if v, ok := set[modeGUC]; ok {
		if m, err := parseMode(v); err == nil {
			mode = m
		} else {
			e.log.Warn("ignoring invalid deferproxy.mode in startup options", "session", info.ID, "value", v)
		}
	}
	s.mode.init(mode)
	view := e.viewApp(info.ApplicationName)
	s.viewFromApp = true
	if v, ok := set[viewGUC]; ok {
		s.viewFromApp = false
		if b, err := parseBool(viewGUC, v); err == nil {
			view = b
		} else {
			e.log.Warn("ignoring invalid deferproxy.catalog_view in startup options", "session", info.ID, "value", v)
		}
	}
	s.view.init(view)
	return s
}

// currentMode returns the mode in effect (mu held).
func (s *session) currentMode() catalog.Mode { return s.mode.current() }

// viewOnLocked says whether the catalog view applies to the session's statements now (mu held): asked for, and not
// a dbt session (dbt decides create-versus-replace from its own listing of the dev schema, which must stay true)
// nor a Snowflake one (SPEC §5.6).
func (s *session) viewOnLocked() bool {
	return s.view.current() && !s.dbt && s.dialect == rewrite.Postgres
}

// viewDepLocked is the verdict dependency on the catalog view: "" where it cannot apply.
func (s *session) viewDepLocked() string {
	if s.dbt || s.dialect != rewrite.Postgres {
		return ""
	}
	return onOff(s.view.current())
}

func (s *session) status() SessionStatus {
	s.mu.Lock()
	m, app, view := s.currentMode(), s.app, s.viewOnLocked()
	s.mu.Unlock()
	return SessionStatus{
		ID: s.info.ID, User: s.info.User, Database: s.info.Database, Application: app,
		Mode: m.String(), CatalogView: view, DevSchema: s.target.database + "." + s.target.schema, Since: s.since,
		Deferrals: s.deferrals.Load(),
	}
}

func sortSessions(ss []SessionStatus) {
	sort.Slice(ss, func(i, j int) bool { return ss[i].ID < ss[j].ID })
}

// Close implements engine.Session.
func (s *session) Close() {
	s.mu.Lock()
	s.flushTxLocked(true)
	s.mu.Unlock()
	s.e.dropSession(s.info.ID)
}

// Transaction implements engine.Session: the end of a transaction applies what happened in it.
func (s *session) Transaction(state engine.TxState) {
	s.mu.Lock()
	prev := s.txState
	s.txState = state
	if state == engine.TxIdle {
		rolledBack := prev == engine.TxFailed || s.rollbackSeen
		s.mode.end(rolledBack)
		s.view.end(rolledBack)
		s.endPathTxLocked(prev == engine.TxFailed || s.rollbackSeen)
		s.beginSeen, s.rollbackSeen = false, false
		s.flushTxLocked(false)
	}
	s.mu.Unlock()
}

// flushTxLocked ends the transaction's dev catalog overlay: the schemas its DDL touched are refetched by whoever asks
// next, which gives the truth whether the transaction committed or rolled back.
func (s *session) flushTxLocked(closing bool) {
	if dc := s.devCatalog(); dc != nil {
		if s.ddlUnknown {
			dc.InvalidateAll()
		} else {
			for sc := range s.ddlSchemas {
				dc.Invalidate(sc.Database, sc.Schema)
			}
		}
	}
	s.ddlSchemas, s.overlay, s.ddlUnknown = nil, nil, false
	if closing {
		s.temps = nil
	}
}

// inTxLocked reports whether a statement sent now runs inside a transaction block.
func (s *session) inTxLocked() bool {
	return s.txState != engine.TxIdle || s.beginSeen
}

// Statement implements engine.Session. The hot path (a statement naming no schema that matters) costs a
// first-word check, a prefilter pass and no allocation.
func (s *session) Statement(ctx context.Context, sql string) engine.Verdict {
	e := s.e
	e.statements.Add(1)
	var notices []engine.Message

	// Session control and search_path are SET/RESET/SHOW statements: look for them only when the text starts with
	// one of those words or holds several statements.
	w := rewrite.FirstWord(sql)
	multi := rewrite.SeveralStatements(sql)
	if !s.started.Load() {
		s.started.Store(true)
	}
	s.trackTransaction(rewrite.TxControl(w, sql))
	var an *rewrite.Analysis // the analysis of sql, when the session-control gate already needed it
	if s.dialect == rewrite.Snowflake {
		// Snowflake: USE changes where names resolve (dbt-snowflake ends every statement with ';', so multi says
		// little); SET and SHOW are Snowflake's own (session variables, listings).
		if strings.EqualFold(w, "use") || multi && rewrite.ContainsWord(sql, "use") {
			an = e.sql.analyzeIn(sql, s.dialect)
			s.trackUse(an)
		}
	} else if multi || isSettingVerb(w) || mentionsPath(sql) || strings.EqualFold(w, "do") {
		s.noteReadingChange(w, sql)
		control, path := rewrite.ContainsFold(sql, "deferproxy."), multi || isSettingVerb(w) || mentionsPath(sql)
		if control || path {
			an = e.sql.analyze(sql)
		}
		if control && multi && setBeforeOthers(an) {
			// SET deferproxy.… between other statements of one string: each statement is decided with the
			// settings in effect where it stands, as the server runs them.
			return s.bySegments(ctx, sql, an, notices)
		}
		if control {
			out, res, done := s.control(sql, an)
			if done {
				return res
			}
			if out != sql {
				sql, an = out, nil
			}
			notices = append(notices, res.Messages...)
		}
		switch rd, _ := s.reading(); {
		case path && !rd.Plain(sql):
			// pg_query would misread it: whatever it does to the search_path is not known here.
			s.mu.Lock()
			if s.txState != engine.TxFailed {
				s.setPathLocked(s.unknownPathLocked(), false)
			}
			s.mu.Unlock()
		case path && an != nil:
			s.trackSearchPath(an, sql)
		case path:
			s.trackSearchPath(e.sql.analyze(sql), sql)
		}
	}

	prod := e.prod.Current()
	if prod == nil {
		s.mu.Lock()
		told := s.toldNoManifest
		s.toldNoManifest = true
		s.mu.Unlock()
		if !told {
			notices = append(notices, warning(fmt.Sprintf(
				"deferproxy: no production manifest is loaded yet (%s); statements are forwarded unchanged, without deferral",
				e.prod.Source())))
		}
		return engine.Verdict{SQL: sql, Messages: notices}
	}
	ts := s.targetFor(prod)
	s.mu.Lock()
	scope := s.scope
	pathFilter := s.pathFilterLocked(ts)
	risk := s.pathRiskLocked(ts)
	viewDep := s.viewDepLocked()
	s.mu.Unlock()
	// A DO block goes to the write guard even when it names no production schema: what it runs may be unreadable.
	// While the search_path reaches production (or is unknown), so does anything that may write: an unqualified
	// name needs no schema.
	// With the catalog view on, a statement that may read the catalogs is decided too (SPEC §5.6).
	if !ts.filter.match(sql) && (pathFilter == nil || !pathFilter.Match(sql)) && !strings.EqualFold(w, "do") &&
		!(risk && couldWrite(w, sql, multi)) && !(viewDep == "on" && mayReadCatalogs(sql)) {
		return engine.Verdict{SQL: sql, Messages: notices, DependsOn: engine.Dependencies{Manifests: ts.id,
			SearchPath: scope.SearchPath, CatalogView: viewDep}}
	}
	return s.process(ctx, sql, an, prod, ts, scope, notices)
}

func isSettingVerb(w string) bool {
	return strings.EqualFold(w, "set") || strings.EqualFold(w, "reset") || strings.EqualFold(w, "show") ||
		strings.EqualFold(w, "discard")
}

// trackTransaction notes BEGIN and ROLLBACK sent ahead of the next transaction state (pipelines, multi-statement
// strings), so SET deferproxy.mode knows whether it runs in a transaction and whether that transaction was undone.
func (s *session) trackTransaction(tx rewrite.TxEffect) {
	switch tx {
	case rewrite.TxBegin:
		s.mu.Lock()
		s.beginSeen = true
		s.mu.Unlock()
	case rewrite.TxRollback:
		s.mu.Lock()
		s.rollbackSeen = true
		s.mu.Unlock()
	}
}

// pathFilterLocked returns, when the session's search_path reaches a schema that matters, a prefilter over the
// names an unqualified reference could use there (the schema-name prefilter cannot see those); nil otherwise.
func (s *session) pathFilterLocked(ts *targetState) *rewrite.Prefilter {
	if s.pathFilterTS == ts.id && s.pathFilterVersion == s.pathVersion {
		return s.pathFilter
	}
	s.pathFilterTS, s.pathFilterVersion, s.pathFilter = ts.id, s.pathVersion, nil
	relevant := false
	for _, p := range s.scope.SearchPath {
		if ts.filter.has(p) {
			relevant = true
			break
		}
	}
	if !relevant {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	ts.prod.Nodes(func(n *catalog.Node) bool {
		if !ts.prod.Deferrable(n) {
			return true
		}
		if rel, ok := ts.devmap.DevRelation(n.UniqueID); ok && !seen[rel.Identifier] {
			seen[rel.Identifier] = true
			names = append(names, rel.Identifier)
		}
		if id := n.Relation.Identifier; id != "" && !seen[id] {
			seen[id] = true
			names = append(names, id)
		}
		return true
	})
	s.pathFilter = rewrite.NewPrefilter(names)
	return s.pathFilter
}

// control answers deferproxy.* statements (SPEC §8). SET and RESET are forwarded (the server keeps a placeholder
// setting, so its answer, transaction and protocol state stay PostgreSQL's own) and tracked here; SHOW is rewritten
// into a SELECT of the value. done is true when res is the final answer.
func (s *session) control(sql string, an *rewrite.Analysis) (out string, res engine.Verdict, done bool) {
	ctls := findControls(an)
	if len(ctls) == 0 {
		return sql, engine.Verdict{}, false
	}
	for _, c := range ctls {
		if c.kind != ctlSet {
			continue
		}
		var err error
		hint := "Available values: defer, favor_state, off."
		if c.name == viewGUC {
			_, err = parseBool(viewGUC, c.value)
			hint = "Available values: on, off."
		} else {
			_, err = parseMode(c.value)
		}
		if err != nil {
			s.e.refused.Add(1)
			return sql, engine.Verdict{SQL: sql, Refusal: &engine.Refusal{Code: "22023", Message: err.Error(), Hint: hint}}, true
		}
	}
	var edits []rewrite.Edit
	s.mu.Lock()
	failed := s.txState == engine.TxFailed // the server refuses every statement until ROLLBACK
	inTx := s.inTxLocked()
	for _, c := range ctls {
		switch c.kind {
		case ctlSet, ctlReset:
			if failed {
				continue
			}
			if c.name == viewGUC {
				v := s.view.start // RESET returns to the connect-time value, as PostgreSQL's reset_val does
				if c.kind == ctlSet {
					v, _ = parseBool(viewGUC, c.value)
				}
				s.view.set(v, c.local, inTx)
				continue
			}
			m := s.mode.start
			if c.kind == ctlSet {
				m, _ = parseMode(c.value)
			}
			s.mode.set(m, c.local, inTx)
		case ctlShowMode:
			edits = append(edits, rewrite.Edit{Start: c.start, End: c.end,
				Text: "SELECT " + rewrite.QuoteLiteral(s.currentMode().String(), an.Dialect) + ` AS "deferproxy.mode"`})
		case ctlShowView:
			edits = append(edits, rewrite.Edit{Start: c.start, End: c.end,
				Text: "SELECT " + rewrite.QuoteLiteral(onOff(s.viewOnLocked()), an.Dialect) + ` AS "deferproxy.catalog_view"`})
		case ctlShowStatus:
			edits = append(edits, rewrite.Edit{Start: c.start, End: c.end,
				Text: "SELECT " + rewrite.QuoteLiteral(s.e.statusLine(), an.Dialect) + ` AS "deferproxy.status"`})
		}
	}
	s.mu.Unlock()
	out, err := rewrite.Apply(sql, edits)
	if err != nil {
		out = sql // the spans come from the analysis of sql: cannot happen
	}
	if len(ctls) == len(an.Statements) { // nothing but control statements (one per statement)
		return out, engine.Verdict{SQL: out}, true
	}
	return out, engine.Verdict{}, false
}

// statusLine is the one-line answer of SHOW deferproxy.status.
func (e *Engine) statusLine() string {
	m := e.prod.Current()
	if m == nil {
		return "no production manifest loaded (" + e.prod.Source() + ")"
	}
	rs := e.runStatus(m)
	line := fmt.Sprintf("production run %s (generated_at %s, dbt %s) from %s; %d nodes; age %s",
		rs.Label, m.Metadata().GeneratedAt, rs.DBTVersion, rs.Source, rs.Nodes, age.Human(time.Duration(rs.AgeSeconds*float64(time.Second))))
	if rs.URL != "" {
		line += "; " + rs.URL
	}
	if rs.Stale {
		line += " (stale)"
	}
	return line
}

func notice(msg string) engine.Message { return engine.Message{Severity: engine.Notice, Text: msg} }

func warning(msg string) engine.Message { return engine.Message{Severity: engine.Warning, Text: msg} }
