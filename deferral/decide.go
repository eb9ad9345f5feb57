package deferral

import (
	"context"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/rewrite"
)

// The decision of one statement string goes one way: it gets everything it needs as values — the analysis, the
// manifests and dev mapping (targetState), the session's scope, mode, temp tables and dev catalog view, and the
// node selection — decides every read reference with catalog.Decide, and only then asks rewrite to apply what was
// decided. What it consulted (dev catalog listings, the node selection) comes back in the outcome, for the memo.

// decided is one read reference and the verdict on it.
type decided struct {
	ref rewrite.Reference
	dec catalog.Decision
}

// selector answers whether a node is selected in the dbt invocation of a statement's query comment (SPEC §4.3).
type selector interface {
	selected(qc catalog.QueryComment, uniqueID string) bool
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
	// guardScopes are the scopes unqualified writes are judged in (every search_path the server may be using);
	// pathUnknown says the search_path is not known for certain. Nil guardScopes: scope alone.
	guardScopes []catalog.Scope
	pathUnknown bool
	selection   selector // nil: no node is selected
	// recordListings asks for the dev catalog listings the answers came from (outcome.listings).
	recordListings bool
	// dbt says the statements are dbt's own (a dbt session, `deferproxy rewrite`): the introspection literals of
	// catalog queries are rewritten for them (SPEC §5.5). Other sessions' catalog queries describe the dev schema as
	// it is, unless a statement carries dbt's query comment.
	dbt bool
	// views answers whether a DML target is a dev view over production (guardViews); nil: not checked.
	views viewCatalog
	// catalogView: the session's deferproxy.catalog_view is on — its catalog reads show the deferred models in their
	// dev schemas (SPEC §5.6). Never set for dbt's statements.
	catalogView bool
	// catalogColumns gives the viewed catalogs' columns (catalog.DevCatalog.CatalogColumns); nil: not known.
	catalogColumns func(ctx context.Context, db string) (rewrite.CatalogColumns, error)
}

// outcome is what the decision produced.
type outcome struct {
	sql       string
	refused   string // the production relation a write would hit; "" when allowed
	hint      string // what to do about the refusal, when the write guard has a more precise word than allow_prod_writes
	decisions []decided
	deferrals []rewrite.Deferral
	literals  []literalEdit // introspection literals rewritten (SPEC §5.5)
	viewed    int           // deferred models the catalog view showed (SPEC §5.6)
	comments  []catalog.QueryComment
	err       error // the dev catalog could not answer: nothing was rewritten
	// What the decisions drew on besides the plan: the dev catalog listings (when asked for) and whether the node
	// selection was consulted (favor_state: it changes with time, so such an outcome is not kept).
	listings          []catalog.Listing
	consultedSelected bool
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
		scopes := p.guardScopes
		if scopes == nil {
			scopes = []catalog.Scope{p.scope}
		}
		if rel, hint := guardUnqualified(p.an, p.prod, p.ts, scopes, p.pathUnknown, p.tempTable); rel != "" {
			o.refused, o.hint = rel, hint
			return o
		}
		if rel := guard(p.an, p.sql, p.prod, p.ts, p.scope, p.tempTable); rel != "" {
			o.refused = rel
			return o
		}
		if rel := guardViews(ctx, &p); rel != "" {
			o.refused = rel
			return o
		}
	}
	o.comments = comments(p.sql, p.an)
	if !readable(p.an) || p.mode == catalog.ModeOff {
		return o
	}
	base := catalog.Request{Scope: p.scope, Manifest: p.prod, DevMap: p.ts.devmap, Catalog: p.exist, Mode: p.mode, TempTable: p.tempTable,
		CrossDatabase: p.an.Dialect == rewrite.Snowflake} // Snowflake reads every database of the account
	if p.recordListings {
		base.Consulted = &o.listings
	}
	// request is the Request for the references of statement i: its executing node and selection.
	request := func(i int) catalog.Request {
		req := base
		qc := o.comments[i]
		req.Executing = qc.NodeID
		if p.selection != nil {
			req.Selected = func(id string) bool {
				o.consultedSelected = true
				return p.selection.selected(qc, id)
			}
		}
		return req
	}
	var swaps rewrite.Replacements
	for i := range p.an.Statements {
		st := &p.an.Statements[i]
		var req catalog.Request
		asked := false
		for _, ref := range st.References {
			if ref.Role != rewrite.Read {
				continue
			}
			if !asked {
				req, asked = request(i), true
			}
			req.Ref = ref
			d, err := catalog.Decide(ctx, req)
			if err != nil {
				o.err, o.decisions = err, nil
				return o
			}
			o.decisions = append(o.decisions, decided{ref: ref, dec: d})
			if d.Action == catalog.Defer {
				swaps = append(swaps, rewrite.Replacement{Start: ref.Start, Parts: d.To})
			}
		}
	}
	var res rewrite.Result
	var err error
	if len(swaps) > 0 {
		res, err = rewrite.Rewrite(p.sql, p.an, swaps)
	} else {
		res, err = rewrite.Rewrite(p.sql, p.an, nil)
	}
	if err != nil {
		o.err, o.decisions = err, nil
		return o
	}
	out := res.SQL
	var litEdits []rewrite.Edit
	for i := range p.an.Statements {
		st := &p.an.Statements[i]
		if !st.CatalogQuery || len(st.Literals) == 0 || !p.dbt && o.comments[i].App == "" {
			continue
		}
		edits, lits, ierr := introspect(ctx, p.sql, i, st, request(i))
		if ierr != nil {
			o.err, o.decisions = ierr, nil
			return o
		}
		litEdits = append(litEdits, edits...)
		o.literals = append(o.literals, lits...)
	}
	if p.catalogView && !p.dbt {
		for i := range p.an.Statements {
			if !rewrite.ViewedCatalogs(p.sql, p.an, i) || o.comments[i].App != "" {
				continue // dbt's statements never get the view, whoever sends them
			}
			nodes, verr := viewNodes(ctx, p.ts, request(i))
			if verr != nil {
				o.err, o.decisions = verr, nil
				return o
			}
			o.viewed = len(nodes)
			var cols rewrite.CatalogColumns
			if p.catalogColumns != nil && len(nodes) > 0 {
				// Without the columns the view still works, by jsonb_populate_record (slower per row).
				cols, _ = p.catalogColumns(ctx, p.scope.Database)
			}
			litEdits = append(litEdits, rewrite.CatalogView(p.sql, p.an, nodes, cols)...)
			break // one list for the string: CatalogView rewrites every statement that reads the catalogs
		}
	}
	if len(litEdits) > 0 {
		// One pass over the original text: the relation names, the literals and the catalog view together.
		if out, err = rewrite.Apply(p.sql, append(res.Edits(), litEdits...)); err != nil {
			o.err, o.decisions = err, nil
			return o
		}
	}
	o.sql = out
	o.deferrals = res.Deferrals
	return o
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
