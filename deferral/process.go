package deferral

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// decided is one read reference and the verdict on it.
type decided struct {
	ref rewrite.Reference
	dec catalog.Decision
}

// resolver adapts catalog.Decide to rewrite.Resolver for one statement string. It keeps every decision (for notices
// and --explain) and the first catalog error (after which it keeps everything: reads fail open as a whole).
type resolver struct {
	ctx     context.Context
	base    catalog.Request
	comment func(stmt int) (executing string, selected func(string) bool)
	out     []decided
	err     error
}

func (r *resolver) Resolve(ref rewrite.Reference) ([]string, bool) {
	if r.err != nil {
		return nil, false
	}
	req := r.base
	req.Ref = ref
	if r.comment != nil {
		req.Executing, req.Selected = r.comment(ref.Statement)
	}
	d, err := catalog.Decide(r.ctx, req)
	if err != nil {
		r.err = err
		return nil, false
	}
	r.out = append(r.out, decided{ref: ref, dec: d})
	if d.Action != catalog.Defer {
		return nil, false
	}
	return d.To, true
}

// plan is the input of the per-statement decision, independent of sessions (the proxy and `deferproxy rewrite`).
type plan struct {
	sql             string
	an              *rewrite.Analysis
	prod            *catalog.Manifest
	ts              *targetState
	scope           catalog.Scope
	mode            catalog.Mode
	exist           catalog.Existence
	tempTable       func(string) bool
	allowProdWrites bool
	// selected returns, for a statement's query comment, the selected-node test (SPEC §4.3).
	selected func(qc catalog.QueryComment) func(string) bool
}

// outcome is what the decision produced.
type outcome struct {
	sql       string
	refused   string // the production relation a write would hit; "" when allowed
	decisions []decided
	deferrals []rewrite.Deferral
	literals  []literalEdit // introspection literals rewritten (SPEC §5.5)
	comments  []catalog.QueryComment
	err       error // the dev catalog could not answer: nothing was rewritten
}

// literalEdit is one rewritten introspection literal.
type literalEdit struct {
	Statement int    `json:"statement"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// decide runs SPEC §4–§6 over one statement string: write guard first, then the read references and the
// introspection literals of catalog queries. Unparsed text is never rewritten (reads fail open).
func decide(ctx context.Context, p plan) outcome {
	o := outcome{sql: p.sql}
	if !p.allowProdWrites {
		if rel := guard(p.an, p.sql, p.prod, p.ts, p.scope, p.tempTable); rel != "" {
			o.refused = rel
			return o
		}
	}
	o.comments = comments(p.sql, p.an)
	if !p.an.Parsed || p.mode == catalog.ModeOff {
		return o
	}
	r := &resolver{
		ctx:  ctx,
		base: catalog.Request{Scope: p.scope, Manifest: p.prod, DevMap: p.ts.devmap, Catalog: p.exist, Mode: p.mode, TempTable: p.tempTable},
	}
	r.comment = func(stmt int) (string, func(string) bool) {
		qc := o.comments[stmt]
		var sel func(string) bool
		if p.selected != nil {
			sel = p.selected(qc)
		}
		return qc.NodeID, sel
	}
	res, err := rewrite.Rewrite(p.sql, p.an, r)
	if err == nil {
		err = r.err
	}
	if err != nil {
		o.err = err
		return o
	}
	out := res.SQL
	var litEdits []rewrite.Edit
	for i := range p.an.Statements {
		st := &p.an.Statements[i]
		if !st.CatalogQuery || len(st.Literals) == 0 {
			continue
		}
		req := r.base
		req.Executing, req.Selected = r.comment(i)
		edits, lits, ierr := introspect(ctx, p.sql, i, st, req)
		if ierr != nil {
			o.err = ierr
			return o
		}
		litEdits = append(litEdits, edits...)
		o.literals = append(o.literals, lits...)
	}
	if len(litEdits) > 0 {
		// One pass over the original text: the relation names and the literals together.
		if out, err = rewrite.Apply(p.sql, append(res.Edits(), litEdits...)); err != nil {
			o.err = err
			return o
		}
	}
	o.sql = out
	o.deferrals = res.Deferrals
	o.decisions = r.out
	return o
}

// process is the slow path: the statement names a schema that matters.
func (s *session) process(ctx context.Context, sql string, an *rewrite.Analysis, prod *catalog.Manifest, ts *targetState,
	scope catalog.Scope, notices []engine.Message) engine.Verdict {
	e := s.e
	if qc, ok := catalog.ParseQueryComment(sql); ok {
		e.sel.see(qc.InvocationID, qc.NodeID)
	}

	s.mu.Lock()
	mode := s.currentMode()
	pathVersion := s.pathVersion
	private := len(s.overlay) > 0 || len(s.temps) > 0 // answers depend on this session's own uncommitted DDL
	s.mu.Unlock()
	if !private {
		if m := s.memo.lookup(e.devcat, sql, ts, mode, pathVersion); m != nil {
			e.memoHits.Add(1)
			notices = append(notices, s.deliver(m.report, prod)...)
			v := engine.Verdict{SQL: sql, Messages: notices, Deferrals: m.report.deferred, DependsOn: m.deps}
			if m.changed {
				v.SQL = m.sql
			}
			return v
		}
	}
	if an == nil {
		an = e.sql.analyze(sql)
	}

	s.mu.Lock()
	var exist catalog.Existence = noCatalog{}
	if e.existence != nil {
		exist = e.existence
	}
	var rec *listingRecorder
	if !private && e.devcat != nil && e.existence == catalog.Existence(e.devcat) {
		rec = &listingRecorder{cat: e.devcat}
		exist = rec
	}
	if len(s.overlay) > 0 {
		ov := make(map[catalog.Relation]bool, len(s.overlay))
		for k, v := range s.overlay {
			ov[k] = v
		}
		exist = overlayExistence{base: exist, overlay: ov}
	}
	var tempTable func(string) bool
	if len(s.temps) > 0 {
		temps := make(map[string]struct{}, len(s.temps))
		for k := range s.temps {
			temps[k] = struct{}{}
		}
		tempTable = func(name string) bool { _, ok := temps[name]; return ok }
	}
	s.mu.Unlock()

	devTarget := s.target.database + "." + s.target.schema
	consultedSelection := false
	// deps says what the verdict was drawn from; volatile ones also depend on what it cannot name.
	deps := func(volatile bool) engine.Dependencies {
		d := engine.Dependencies{Manifests: ts.id, Mode: mode.String(), SearchPath: scope.SearchPath, Volatile: volatile || private}
		if rec != nil {
			d.Listings = rec.deps
		}
		return d
	}
	o := decide(ctx, plan{
		sql: sql, an: an, prod: prod, ts: ts, scope: scope, mode: mode, exist: exist, tempTable: tempTable,
		allowProdWrites: e.cfg.AllowProdWrites,
		selected: func(qc catalog.QueryComment) func(string) bool {
			return func(id string) bool {
				consultedSelection = true
				return e.sel.selected(qc.InvocationID, qc.NodeID, devTarget, id)
			}
		},
	})
	if o.refused != "" {
		e.refused.Add(1)
		return engine.Verdict{SQL: sql, Messages: notices, Refusal: prodWriteError(o.refused), DependsOn: deps(true)}
	}
	s.trackDDL(an, ts, scope)
	if !an.Parsed {
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
	memoizable := rec != nil && !consultedSelection && rec.memoizable() && readOnly(an)
	d := deps(!memoizable)
	if memoizable {
		en := &memoEntry{mode: mode, pathVersion: pathVersion, deps: d, report: r}
		if o.sql != sql {
			en.sql, en.changed = o.sql, true // unchanged: the key is the text (the statement's own copy is not kept)
		}
		s.memo.store(sql, en)
	}
	notices = append(notices, s.deliver(r, prod)...)
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

// comments returns the dbt query comment of each statement of the string (a statement without its own comment
// inherits the string's, which dbt puts at the very start).
func comments(sql string, an *rewrite.Analysis) []catalog.QueryComment {
	out := make([]catalog.QueryComment, len(an.Statements))
	whole, okWhole := catalog.ParseQueryComment(sql)
	for i, st := range an.Statements {
		qc, ok := catalog.ParseQueryComment(sql[st.Start:st.End])
		if !ok && okWhole {
			qc = whole
		}
		out[i] = qc
	}
	return out
}

// resolveRel gives the full relation a reference names: 3 parts as written, 2 in the session's database, 1 in the
// first schema of the search_path (where PostgreSQL creates an unqualified relation).
func resolveRel(ref rewrite.Reference, scope catalog.Scope) (catalog.Relation, bool) {
	n := ref.Normalized
	switch len(n) {
	case 3:
		return catalog.Relation{Database: n[0], Schema: n[1], Identifier: n[2]}, true
	case 2:
		return catalog.Relation{Database: scope.Database, Schema: n[0], Identifier: n[1]}, true
	case 1:
		if len(scope.SearchPath) > 0 {
			return catalog.Relation{Database: scope.Database, Schema: scope.SearchPath[0], Identifier: n[0]}, true
		}
	}
	return catalog.Relation{}, false
}

// guard returns the production relation a statement would write, or "" (SPEC §6).
func guard(an *rewrite.Analysis, sql string, prod *catalog.Manifest, ts *targetState, scope catalog.Scope,
	tempTable func(string) bool) string {
	for _, st := range an.Statements {
		writes := 0
		for _, ref := range st.References {
			if ref.Role != rewrite.Write {
				continue
			}
			writes++
			// Temp tables live in the session's pg_temp schema whatever the search_path says (dbt's incremental
			// models and snapshots create unqualified temp tables): never production.
			if len(ref.Normalized) == 1 {
				if tempTable != nil && tempTable(ref.Normalized[0]) {
					continue
				}
				if strings.HasPrefix(strings.ToUpper(st.Kind), "CREATE") {
					if ref.Temp {
						continue
					}
					// PostgreSQL creates an unqualified relation in the first schema of the search_path that exists
					// ("$user" often does not): refuse when any schema before the dev target is a production one.
					for _, p := range scope.SearchPath {
						if p == ts.key.schema {
							break
						}
						if prod.IsProdSchema(catalog.SchemaName{Database: scope.Database, Schema: p}) {
							return catalog.Relation{Schema: p, Identifier: ref.Normalized[0]}.String() +
								" (an unqualified name the search_path may put in production schema " + p + ")"
						}
					}
				}
			}
			if name, refused := catalog.ProdWriteGuard(prod, ref, scope); refused {
				return name
			}
		}
		// The guard never fails open: a statement that did not parse and whose write target the lexer could not
		// read is refused when it names a production schema at all.
		// DROP/ALTER SCHEMA name no relation: refuse when they name a production schema.
		kind := strings.ToUpper(st.Kind)
		if an.Parsed && writes == 0 && st.DDL && (strings.HasPrefix(kind, "DROP") || strings.HasPrefix(kind, "ALTER")) {
			for _, ps := range ts.prodSchemas {
				if rewrite.ContainsWord(sql[st.Start:st.End], ps) {
					return ps + " (a production schema)"
				}
			}
		}
		if !an.Parsed && writes == 0 && rewrite.WriteVerb(rewrite.FirstWord(sql[st.Start:st.End])) {
			for _, ps := range ts.prodSchemas {
				if rewrite.ContainsWord(sql[st.Start:st.End], ps) {
					return ps + " (a production schema, in a statement deferproxy could not parse)"
				}
			}
		}
	}
	return ""
}

func prodWriteError(rel string) *engine.Refusal {
	return &engine.Refusal{
		Code:    "42501",
		Message: fmt.Sprintf("deferproxy: permission denied: this dev session may not write to production relation %s", rel),
		Detail:  "Writes from a dev session into a production relation (or a schema that holds production nodes) are refused by the production write guard.",
		Hint:    "To allow it, set allow_prod_writes: true in the deferproxy configuration (or start it with --allow-prod-writes).",
	}
}

// trackDDL remembers the relations this statement creates, replaces, renames or drops in the open transaction
// (overlay over the shared dev catalog) and the schemas to invalidate when the transaction ends.
func (s *session) trackDDL(an *rewrite.Analysis, ts *targetState, scope catalog.Scope) {
	devTarget := s.target.database + "." + s.target.schema
	for _, st := range an.Statements {
		if !st.DDL {
			// DML into a node's dev relation (a seed reloaded in place: TRUNCATE + INSERT; an incremental model's
			// INSERT/MERGE) means dbt is building that node now: it counts as selected (SPEC §4.3).
			for _, ref := range st.References {
				if ref.Role != rewrite.Write {
					continue
				}
				if rel, ok := resolveRel(ref, scope); ok {
					if m, ok := ts.devmap.Lookup(rel); ok {
						s.e.sel.markBuilt(devTarget, m.UniqueID)
					}
				}
			}
			continue
		}
		kind := strings.ToUpper(st.Kind)
		var writes []rewrite.Reference
		for _, ref := range st.References {
			if ref.Role == rewrite.Write {
				writes = append(writes, ref)
			}
		}
		s.mu.Lock()
		if len(writes) == 0 {
			s.ddlUnknown = true // DROP SCHEMA, …: which relations changed is unknown
		}
		var prevRel catalog.Relation
		for i, ref := range writes {
			rel, ok := resolveRel(ref, scope)
			// Kept past this statement: never alias the proxy's read buffer.
			rel = catalog.Relation{Database: strings.Clone(rel.Database), Schema: strings.Clone(rel.Schema), Identifier: strings.Clone(rel.Identifier)}
			if len(ref.Normalized) == 1 && i > 0 && prevRel.Schema != "" {
				// ALTER … RENAME TO new: the new name lives in the old one's schema.
				rel = catalog.Relation{Database: prevRel.Database, Schema: prevRel.Schema, Identifier: strings.Clone(ref.Normalized[0])}
				ok = true
			} else if len(ref.Normalized) == 1 && strings.HasPrefix(kind, "CREATE") {
				if s.temps == nil {
					s.temps = map[string]struct{}{}
				}
				s.temps[strings.Clone(ref.Normalized[0])] = struct{}{}
				if ref.Temp {
					continue // pg_temp: not in any schema the dev catalog knows
				}
			}
			if !ok {
				continue
			}
			if s.ddlSchemas == nil {
				s.ddlSchemas = map[catalog.SchemaName]struct{}{}
			}
			s.ddlSchemas[catalog.SchemaName{Database: rel.Database, Schema: rel.Schema}] = struct{}{}
			if s.overlay == nil {
				s.overlay = map[catalog.Relation]bool{}
			}
			created := false
			switch {
			case strings.HasPrefix(kind, "DROP"):
				s.overlay[rel] = false
			case strings.HasPrefix(kind, "ALTER") && len(writes) >= 2:
				if i == 0 {
					s.overlay[rel] = false
				} else {
					s.overlay[rel], created = true, true
				}
			case strings.HasPrefix(kind, "CREATE") && !strings.Contains(kind, "INDEX") && i == 0,
				kind == "SELECT INTO":
				s.overlay[rel], created = true, true
			}
			if created {
				if m, ok := ts.devmap.Lookup(rel); ok {
					s.e.sel.markBuilt(devTarget, m.UniqueID)
				}
			}
			prevRel = rel
		}
		s.mu.Unlock()
	}
}

// introspect decides the relation one catalog query's literals name (SPEC §5.5) and returns the edits that point
// them at its production relation, on the offsets of orig. req carries the statement's scope, snapshot, mode,
// executing node and selection.
func introspect(ctx context.Context, orig string, stmt int, st *rewrite.Statement, req catalog.Request) ([]rewrite.Edit, []literalEdit, error) {
	lits := st.Literals
	var schema, name, db string
	for _, l := range lits {
		var p *string
		switch l.Part {
		case rewrite.PartSchema:
			p = &schema
		case rewrite.PartName:
			p = &name
		case rewrite.PartDatabase:
			p = &db
		}
		if *p != "" && *p != l.Value {
			return nil, nil, nil // two different relations: not the shape of one relation's introspection
		}
		*p = l.Value
	}
	if schema == "" || name == "" {
		return nil, nil, nil
	}
	if db == "" {
		db = req.Scope.Database
	}
	req.Ref = rewrite.Reference{
		Parts: []string{db, schema, name}, Quoted: []bool{true, true, true},
		Normalized: []string{db, schema, name}, Role: rewrite.Read, Statement: stmt,
	}
	d, err := catalog.Decide(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if d.Action != catalog.Defer || d.CrossDatabase || d.Prod.Schema == "" {
		return nil, nil, nil
	}
	edits := make([]rewrite.Edit, 0, len(lits))
	var reported []literalEdit
	for i := len(lits) - 1; i >= 0; i-- { // reported right to left, as they always were
		l := lits[i]
		var v string
		switch l.Part {
		case rewrite.PartSchema:
			v = d.Prod.Schema
		case rewrite.PartName:
			v = d.Prod.Identifier
		case rewrite.PartDatabase:
			v = d.Prod.Database
		}
		to := rewrite.QuoteLiteral(v, rewrite.Postgres)
		edits = append(edits, rewrite.Edit{Start: l.Start, End: l.End, Text: to})
		reported = append(reported, literalEdit{Statement: stmt, From: orig[l.Start:l.End], To: to})
	}
	return edits, reported, nil
}

// report is what one decided statement string tells the client (SPEC §7) and counts, before the once-per-session
// parts (the first notice's manifest detail, the stale-manifest warning) that deliver adds. It holds no session
// state and no memory of the statement text, so the memo can keep it.
type report struct {
	items        []reportItem
	deferred     []engine.Deferral
	deferrals    int
	introspected bool
}

type reportKind uint8

const (
	itemDeferral reportKind = iota // a statement's deferrals: its NOTICE (msg "" with notices: off), then the stale check
	itemWarning
	itemNotice
)

type reportItem struct {
	kind reportKind
	msg  string
}

// buildReport turns an outcome into the client report, in statement order.
func (e *Engine) buildReport(an *rewrite.Analysis, o outcome, prod *catalog.Manifest) *report {
	r := &report{deferrals: len(o.deferrals), introspected: len(o.literals) > 0}
	if len(o.decisions) == 0 {
		return r
	}
	swapped := make(map[int]bool, len(o.deferrals))
	for _, d := range o.deferrals {
		swapped[d.Ref.Start] = true
	}
	byStmt := map[int][]decided{}
	var cross []decided
	for _, d := range o.decisions {
		if d.dec.Action == catalog.Defer && swapped[d.ref.Start] {
			byStmt[d.ref.Statement] = append(byStmt[d.ref.Statement], d)
		} else if d.dec.CrossDatabase {
			cross = append(cross, d)
		}
	}
	for i := range an.Statements {
		list := byStmt[i]
		if len(list) == 0 {
			continue
		}
		for _, d := range list {
			r.deferred = append(r.deferred, engine.Deferral{Statement: i, Node: strings.Clone(o.comments[i].NodeID),
				From: shortName(d.dec.Dev), To: shortName(d.dec.Prod)})
		}
		it := reportItem{kind: itemDeferral}
		if e.cfg.Notices != "off" {
			it.msg = deferNotice(list, prod)
		}
		r.items = append(r.items, it)
		if k := strings.ToUpper(an.Statements[i].Kind); k == "CREATE VIEW" {
			r.items = append(r.items, reportItem{kind: itemWarning, msg: fmt.Sprintf(
				"deferproxy: this dev view reads %d deferred production relation(s); a production rebuild (drop … cascade) will drop it: dbt run it again, or materialize it as a table",
				len(list))})
		}
	}
	if len(cross) > 0 && e.cfg.Notices != "off" {
		names := make([]string, 0, len(cross))
		for _, d := range cross {
			names = append(names, shortName(d.dec.Dev)+" → "+d.dec.Prod.String())
		}
		r.items = append(r.items, reportItem{kind: itemNotice, msg: "deferproxy did not defer " + strings.Join(names, ", ") +
			": production is in another database, which PostgreSQL cannot read from this one"})
	}
	return r
}

// deliver counts a report and turns it into the session's notices: the first deferral notice of a session (every
// one with notices: all) names the production manifest, and a stale manifest is reported once per session.
func (s *session) deliver(r *report, prod *catalog.Manifest) []engine.Message {
	e := s.e
	if r.introspected {
		e.introspected.Add(1)
	}
	if r.deferrals > 0 {
		e.rewritten.Add(1)
		e.deferrals.Add(uint64(r.deferrals))
		s.deferrals.Add(uint64(r.deferrals))
	}
	if len(r.items) == 0 && len(r.deferred) == 0 {
		return nil
	}
	now := time.Now()
	for _, d := range r.deferred {
		e.recent.add(RecentDeferral{At: now, Session: s.info.ID, NodeID: d.Node, From: d.From, To: d.To})
	}
	var out []engine.Message
	md := prod.Metadata()
	for _, it := range r.items {
		switch it.kind {
		case itemWarning:
			out = append(out, warning(it.msg))
		case itemNotice:
			out = append(out, notice(it.msg))
		case itemDeferral:
			s.mu.Lock()
			first := !s.toldRun && it.msg != ""
			if it.msg != "" {
				s.toldRun = true
			}
			stale := !md.GeneratedTime.IsZero() && now.Sub(md.GeneratedTime) > e.cfg.StaleAfter && !s.warnedStale
			if stale {
				s.warnedStale = true
			}
			s.mu.Unlock()
			if it.msg != "" {
				n := notice(it.msg)
				if first || e.cfg.Notices == "all" {
					n.Detail = runDetail(prod, e.prod.Source())
				}
				out = append(out, n)
			}
			if stale {
				out = append(out, warning(fmt.Sprintf(
					"deferproxy: the production manifest is stale: generated %s ago (stale_after %s); deferred reads may not match production",
					humanAge(now.Sub(md.GeneratedTime)), e.cfg.StaleAfter)))
			}
		}
	}
	return out
}

// runDetail is the first NOTICE's DETAIL: the production run by its identity, link included, and the manifest.
func runDetail(prod *catalog.Manifest, source string) string {
	md, run := prod.Metadata(), prod.Run()
	var b strings.Builder
	b.WriteString("production run ")
	b.WriteString(runLabel(prod))
	if !run.FinishedAt.IsZero() {
		b.WriteString(", finished ")
		b.WriteString(run.FinishedAt.UTC().Format(time.RFC3339))
	}
	if run.URL != "" {
		b.WriteString(", ")
		b.WriteString(run.URL)
	}
	b.WriteString("; manifest ")
	b.WriteString(source)
	b.WriteString(": invocation_id ")
	b.WriteString(md.InvocationID)
	b.WriteString(", dbt ")
	b.WriteString(md.DbtVersion)
	b.WriteString(", generated_at ")
	b.WriteString(md.GeneratedAt)
	return b.String()
}

// deferNotice is the SPEC §7 message: deferred N relations to production run <label> (<generated_at>): a → b, …
func deferNotice(list []decided, prod *catalog.Manifest) string {
	md := prod.Metadata()
	var b strings.Builder
	b.Grow(96 + 64*len(list))
	if len(list) == 1 {
		b.WriteString("deferred 1 relation")
	} else {
		b.WriteString("deferred ")
		b.WriteString(strconv.Itoa(len(list)))
		b.WriteString(" relations")
	}
	b.WriteString(" to production run ")
	b.WriteString(runLabel(prod))
	b.WriteString(" (")
	b.WriteString(md.GeneratedAt)
	b.WriteString("): ")
	for i, d := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(shortName(d.dec.Dev))
		b.WriteString(" → ")
		b.WriteString(shortName(d.dec.Prod))
	}
	return b.String()
}

// shortName renders schema.identifier (the database is the session's, or said elsewhere).
func shortName(r catalog.Relation) string {
	return catalog.Relation{Schema: r.Schema, Identifier: r.Identifier}.String()
}
