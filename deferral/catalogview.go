package deferral

import (
	"context"
	"path"
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/rewrite"
)

// The catalog view (SPEC §5.6): for a session that asks for it, the catalog queries an IDE or BI tool sends show
// every deferred model in its dev schema, with production's columns, keys, indexes and a comment saying where it
// comes from — what a fresh SELECT of that name would read. The decision of which models those are is the same
// catalog.Decide a read reference gets; rewrite.CatalogView writes the SQL.

// viewApp says whether an application_name is one of catalog_view_apps (case-insensitive, * and ? globs).
func (e *Engine) viewApp(app string) bool {
	app = strings.ToLower(app)
	for _, p := range e.cfg.CatalogViewApps {
		if ok, _ := path.Match(strings.ToLower(p), app); ok {
			return true
		}
	}
	return false
}

// mayReadCatalogs is the catalog view's prefilter: a statement that names no pg_* relation or function, no
// information_schema and no *_description function cannot read a viewed catalog.
func mayReadCatalogs(sql string) bool {
	return rewrite.ContainsFold(sql, "pg_") || rewrite.ContainsFold(sql, "information_schema") ||
		rewrite.ContainsFold(sql, "_description")
}

// viewNodes decides, for every dev relation the mapping knows in the session's database, whether a read of it would
// go to production now, and returns those that would (sorted by dev relation). req is the request of the statement
// the view is for (its scope, mode, dev catalog and selection); its Consulted records the listings asked.
func viewNodes(ctx context.Context, ts *targetState, req catalog.Request) ([]rewrite.ViewNode, error) {
	if ts.devmap == nil {
		return nil, nil
	}
	var out []rewrite.ViewNode
	for _, dev := range ts.devmap.Relations() {
		if dev.Database != "" && dev.Database != req.Scope.Database {
			continue // another database's catalogs are not the session's
		}
		req.Ref = rewrite.Reference{
			Parts: []string{dev.Schema, dev.Identifier}, Quoted: []bool{false, false},
			Normalized: []string{dev.Schema, dev.Identifier}, Role: rewrite.Read,
		}
		d, err := catalog.Decide(ctx, req)
		if err != nil {
			return nil, err
		}
		if d.Action != catalog.Defer || d.CrossDatabase || d.Prod.Database != "" && d.Prod.Database != req.Scope.Database {
			continue
		}
		out = append(out, rewrite.ViewNode{DevSchema: dev.Schema, DevName: dev.Identifier,
			ProdSchema: d.Prod.Schema, ProdName: d.Prod.Identifier})
	}
	return out, nil
}
