package deferral

import (
	"context"
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// process is the slow path: the statement names a schema that matters.
func (s *session) process(ctx context.Context, sql string, an *rewrite.Analysis, prod *catalog.Manifest, ts *targetState,
	scope catalog.Scope, notices []engine.Message) engine.Verdict {
	e := s.e
	// Snowflake text is UTF-8, and its lexer reads backslash escapes in every string: always plain.
	if rd, both := s.reading(); s.dialect != rewrite.Snowflake && !rd.Plain(sql) {
		return s.processUnplain(ctx, sql, rd, both, prod, ts, scope, notices)
	}
	qc, _ := catalog.ParseQueryComment(sql)
	e.sel.see(qc.InvocationID, qc.NodeID)

	s.mu.Lock()
	mode := s.currentMode()
	view, viewDep, dbt := s.viewOnLocked(), s.viewDepLocked(), s.dbt
	pathVersion := s.pathVersion
	private := len(s.overlay) > 0 || len(s.temps) > 0 // answers depend on this session's own uncommitted DDL
	guardScopes, pathUnknown := s.guardScopes, s.pathUnknown
	s.mu.Unlock()
	if !private {
		if m := s.memo.lookup(s.devCatalog(), sql, ts, mode, view, pathVersion); m != nil {
			e.memoHits.Add(1)
			notices = append(notices, s.deliver(m.report, prod)...)
			notices = append(notices, s.noteListings(qc, m.report)...)
			v := engine.Verdict{SQL: sql, Messages: notices, Deferrals: m.report.deferred, DependsOn: m.deps}
			if m.changed {
				v.SQL = m.sql
			}
			return v
		}
	}
	if an == nil {
		an = e.sql.analyzeIn(sql, s.dialect)
	}

	s.mu.Lock()
	exist, devcat := s.existence()
	// Only answers from the shared dev catalog's listings can be checked later: the memo keeps nothing else.
	recordListings := !private && devcat != nil && exist == catalog.Existence(devcat)
	if len(s.overlay) > 0 {
		ov := make(map[catalog.Relation]bool, len(s.overlay))
		for k, v := range s.overlay {
			ov[k] = v
		}
		exist = catalog.Overlay{Base: exist, Relations: ov}
	}
	tempTable := s.tempTableLocked()
	s.mu.Unlock()

	pl := plan{
		sql: sql, an: an, prod: prod, ts: ts, scope: scope, mode: mode, exist: exist, tempTable: tempTable,
		allowProdWrites: e.cfg.AllowProdWrites, recordListings: recordListings, dbt: dbt, catalogView: view,
		guardScopes: guardScopes, pathUnknown: pathUnknown,
		selection: sessionSelection{sel: e.sel, devTarget: s.target.database + "." + s.target.schema},
	}
	if e.devcat != nil {
		pl.views = e.devcat
		pl.catalogColumns = e.devcat.CatalogColumns
	}
	o := decide(ctx, pl)
	listings, listed := engineListings(o.listings)
	// deps says what the verdict was drawn from; volatile ones also depend on what it cannot name.
	deps := func(volatile bool) engine.Dependencies {
		return engine.Dependencies{Manifests: ts.id, Mode: mode.String(), SearchPath: scope.SearchPath, Listings: listings,
			CatalogView: viewDep, Volatile: volatile || private}
	}
	if o.refused != "" {
		e.refused.Add(1)
		r := prodWriteError(o.refused)
		if o.hint != "" {
			r.Hint = o.hint + " " + r.Hint
		}
		return engine.Verdict{SQL: sql, Messages: notices, Refusal: r, DependsOn: deps(true)}
	}
	s.trackDDL(an, ts, scope)
	if !readable(an) {
		// Reads fail open: forwarded unchanged, the session told once.
		e.failedOpen.Add(1)
		s.mu.Lock()
		told := s.warnedParse
		s.warnedParse = true
		s.mu.Unlock()
		if !told {
			notices = append(notices, warning("deferproxy could not parse a statement ("+an.ParseError+
				"); it was forwarded unchanged, without deferral (reported once per session)"))
		}
		return engine.Verdict{SQL: sql, Messages: notices, DependsOn: deps(true)}
	}
	if o.err != nil {
		v := s.catalogFailure(sql, o.err, notices)
		v.DependsOn = deps(true)
		return v
	}
	r := e.buildReport(an, o, prod)
	r.listed = listedSchemas(an, ts, s.target, scope.Database)
	memoizable := recordListings && listed && !o.consultedSelected && readOnly(an)
	d := deps(!memoizable)
	if memoizable {
		en := &memoEntry{mode: mode, view: view, pathVersion: pathVersion, deps: d, report: r}
		if o.sql != sql {
			en.sql, en.changed = o.sql, true // unchanged: the key is the text (the statement's own copy is not kept)
		}
		s.memo.store(sql, en)
	}
	notices = append(notices, s.deliver(r, prod)...)
	notices = append(notices, s.noteListings(qc, r)...)
	return engine.Verdict{SQL: o.sql, Messages: notices, Deferrals: r.deferred, DependsOn: d}
}

// readOnly reports whether no statement of the string is DDL or has a write target (the memo's condition).
func readOnly(an *rewrite.Analysis) bool {
	for i := range an.Statements {
		st := &an.Statements[i]
		if st.DDL {
			return false
		}
		for _, ref := range st.References {
			if ref.Role == rewrite.Write {
				return false
			}
		}
	}
	return true
}

// catalogFailure applies on_catalog_error (SPEC §6) when the dev catalog could not answer.
func (s *session) catalogFailure(sql string, err error, notices []engine.Message) engine.Verdict {
	e := s.e
	if e.failClose {
		e.refused.Add(1)
		return engine.Verdict{SQL: sql, Messages: notices, Refusal: &engine.Refusal{
			Code:    "58000",
			Message: "deferproxy: " + err.Error(),
			Hint:    "The dev catalog must answer to decide what to defer (on_catalog_error: fail). Check catalog_dsn, or set on_catalog_error: open to forward statements unchanged while it is down.",
		}}
	}
	e.failedOpen.Add(1)
	e.log.Warn("dev catalog unavailable; statement forwarded unchanged", "session", s.info.ID, "err", err)
	s.mu.Lock()
	told := s.warnedCatalog
	s.warnedCatalog = true
	s.mu.Unlock()
	if !told {
		notices = append(notices, warning("deferproxy: "+err.Error()+
			"; statements are forwarded unchanged, without deferral, until it answers (reported once per session)"))
	}
	return engine.Verdict{SQL: sql, Messages: notices}
}

// sessionSelection is the node selection as a session sees it: the builds through the proxy in its dev target.
type sessionSelection struct {
	sel       *selection
	devTarget string
}

func (s sessionSelection) selected(qc catalog.QueryComment, id string) bool {
	return s.sel.selected(qc.InvocationID, qc.NodeID, s.devTarget, id)
}

// engineListings turns the listings a decision consulted into the contract's terms; ok is false when an answer
// did not come from a listing that can be checked later (the outcome cannot be kept).
func engineListings(ls []catalog.Listing) (out []engine.Listing, ok bool) {
	if len(ls) == 0 {
		return nil, true
	}
	out = make([]engine.Listing, len(ls))
	ok = true
	for i, l := range ls {
		out[i] = engine.Listing{Database: l.Schema.Database, Schema: l.Schema.Schema, ID: l.ID}
		if l.ID == 0 {
			ok = false
		}
	}
	return out, ok
}

// bySegments decides a string statement by statement (SET deferproxy.… stands between other statements): each
// statement goes through Statement alone, with the settings the ones before it left, and the verdicts are joined —
// the text between statements (separators, comments) kept byte for byte. A refusal of any statement refuses the
// string, and the deferproxy settings its statements changed are undone (the server runs none of it). The verdict is
// volatile: it depends on settings it changes itself.
func (s *session) bySegments(ctx context.Context, sql string, an *rewrite.Analysis, notices []engine.Message) engine.Verdict {
	s.mu.Lock()
	mode, view := s.mode.clone(), s.view.clone()
	s.mu.Unlock()
	v := engine.Verdict{Messages: notices, DependsOn: engine.Dependencies{Volatile: true}}
	var b strings.Builder
	prev := 0
	for i, st := range an.Statements {
		b.WriteString(sql[prev:st.Start])
		seg := s.Statement(ctx, sql[st.Start:st.End])
		v.Messages = append(v.Messages, seg.Messages...)
		if seg.Refusal != nil {
			s.mu.Lock()
			s.mode, s.view = mode, view
			s.mu.Unlock()
			v.SQL, v.Refusal, v.Deferrals = sql, seg.Refusal, nil
			return v
		}
		b.WriteString(seg.SQL)
		for _, d := range seg.Deferrals {
			d.Statement = i
			v.Deferrals = append(v.Deferrals, d)
		}
		prev = st.End
	}
	b.WriteString(sql[prev:])
	v.SQL = b.String()
	return v
}
