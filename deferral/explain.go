package deferral

import (
	"context"
	"fmt"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/rewrite"
)

// ExplainConfig is the offline equivalent of a session, for `deferproxy rewrite`.
type ExplainConfig struct {
	Manifest    *catalog.Manifest // production manifest (required)
	DevManifest *catalog.Manifest // optional
	DevSchema   string            // name or template over User
	DevDatabase string            // default: the database of the production relations
	SchemaMap   map[string]string
	User        string   // for a dev schema template and "$user" in the search_path
	SearchPath  []string // default "$user", public
	Mode        string
	// AllowProdWrites turns the production write guard off.
	AllowProdWrites bool
	// Exists answers dev existence (catalog.StaticCatalog for --exists, a DevCatalog for --catalog-dsn).
	Exists catalog.Existence
}

// Explanation is what Explain found and did.
type Explanation struct {
	SQL        string                `json:"sql"`
	Changed    bool                  `json:"changed"`
	Parsed     bool                  `json:"parsed"`
	ParseError string                `json:"parse_error,omitempty"`
	Mode       string                `json:"mode"`
	DevTarget  string                `json:"dev_target"`
	Mapping    string                `json:"mapping"`
	Refused    string                `json:"refused,omitempty"`
	References []ExplainedReference  `json:"references"`
	Literals   []literalEdit         `json:"introspection_literals,omitempty"`
	Notices    []string              `json:"notices,omitempty"`
	Comment    *catalog.QueryComment `json:"query_comment,omitempty"`
}

// ExplainedReference is one relation name of the statement and what happened to it.
type ExplainedReference struct {
	Statement int    `json:"statement"`
	Name      string `json:"name"` // as written
	Role      string `json:"role"` // read | write
	Action    string `json:"action"`
	To        string `json:"to,omitempty"`
	Node      string `json:"node,omitempty"`
	Reason    string `json:"reason"`
}

// Explain decides one SQL string the way a session would, without a proxy: the rewritten SQL and the reason for
// every reference.
func Explain(ctx context.Context, cfg ExplainConfig, sql string) (*Explanation, error) {
	if cfg.Manifest == nil {
		return nil, fmt.Errorf("explain: no production manifest")
	}
	mode, err := catalog.ParseMode(cfg.Mode)
	if err != nil {
		return nil, err
	}
	db := cfg.DevDatabase
	if db == "" {
		db = mainDatabase(cfg.Manifest)
	}
	target := targetKey{database: db, schema: catalog.ExpandSchemaTemplate(cfg.DevSchema, cfg.User)}
	dm := catalog.NewDevMap(catalog.DevMapConfig{
		Prod: cfg.Manifest, Dev: cfg.DevManifest, SchemaMap: cfg.SchemaMap,
		Target: catalog.DevTarget{Database: target.database, Schema: target.schema},
	})
	ts := &targetState{key: target, prod: cfg.Manifest, dev: cfg.DevManifest, devmap: dm}
	for _, s := range cfg.Manifest.ProdSchemas() {
		ts.prodSchemas = append(ts.prodSchemas, s.Schema)
	}
	path := cfg.SearchPath
	if path == nil {
		path = defaultSearchPath
	}
	scope := catalog.Scope{Database: db, SearchPath: expandSearchPath(path, cfg.User)}
	exist := cfg.Exists
	if exist == nil {
		exist = catalog.NewStaticCatalog()
	}
	an, err := rewrite.Analyze(sql)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	o := decide(ctx, plan{
		sql: sql, an: an, prod: cfg.Manifest, ts: ts, scope: scope, mode: mode, exist: exist,
		allowProdWrites: cfg.AllowProdWrites, selection: executingOnly{}, dbt: true,
	})
	x := &Explanation{
		SQL: o.sql, Changed: o.sql != sql, Parsed: an.Parsed, ParseError: an.ParseError, Mode: mode.String(),
		DevTarget: target.database + "." + target.schema, Mapping: dm.Kind().String() + ": " + dm.Explain(),
		Refused: o.refused, Literals: o.literals, References: []ExplainedReference{},
	}
	if qc, ok := catalog.ParseQueryComment(sql); ok {
		x.Comment = &qc
	}
	if o.refused != "" {
		x.SQL = sql
		x.Changed = false
		x.Notices = append(x.Notices, "ERROR 42501: "+prodWriteError(o.refused).Message)
	}
	if o.err != nil {
		x.Notices = append(x.Notices, "WARNING: "+o.err.Error()+"; a session would forward the statement unchanged (on_catalog_error: open)")
	}
	byStart := map[int]decided{}
	for _, d := range o.decisions {
		byStart[d.ref.Start] = d
	}
	swapped := map[int]rewrite.Deferral{}
	for _, d := range o.deferrals {
		swapped[d.Ref.Start] = d
	}
	for _, st := range an.Statements {
		for _, ref := range st.References {
			er := ExplainedReference{Statement: ref.Statement, Name: sql[ref.Start:ref.End], Role: ref.Role.String(), Action: "keep"}
			switch {
			case ref.Role != rewrite.Read:
				er.Reason = "write target: never rewritten"
				if ref.Role == rewrite.Pin {
					er.Reason = "pinned (a foreign key's referenced table, or locked by FOR UPDATE/SHARE): never rewritten"
				}
				if o.refused != "" {
					if name, refused := catalog.ProdWriteGuard(cfg.Manifest, ref, scope); refused {
						er.Action, er.Reason = "refuse", "write into production relation "+name+" (allow with allow_prod_writes: true / --allow-prod-writes)"
					}
				}
			case o.refused != "":
				er.Reason = "not decided: the statement is refused by the write guard"
			case !an.Parsed:
				er.Reason = "not decided: the statement did not parse, reads fail open (forwarded unchanged)"
			case mode == catalog.ModeOff:
				er.Reason = "mode off: nothing is deferred"
			case o.err != nil:
				er.Reason = "not decided: " + o.err.Error()
			default:
				d, ok := byStart[ref.Start]
				if !ok {
					er.Reason = "not decided"
					break
				}
				er.Reason = d.dec.Reason
				if d.dec.Node != nil {
					er.Node = d.dec.Node.UniqueID
				}
				if sw, ok := swapped[ref.Start]; ok {
					er.Action, er.To = "defer", sw.To
				}
			}
			x.References = append(x.References, er)
		}
	}
	return x, nil
}

// executingOnly is the node selection offline, where there is no invocation history: only the executing node is
// selected.
type executingOnly struct{}

func (executingOnly) selected(qc catalog.QueryComment, id string) bool {
	return id != "" && id == qc.NodeID
}

// mainDatabase is the database most production relations live in (the dev database by default, offline).
func mainDatabase(m *catalog.Manifest) string {
	count := map[string]int{}
	best, n := "", 0
	m.Nodes(func(nd *catalog.Node) bool {
		if db := nd.Relation.Database; db != "" {
			count[db]++
			if count[db] > n {
				best, n = db, count[db]
			}
		}
		return true
	})
	return best
}

// ParseSearchPath parses a search_path value the way PostgreSQL stores it ("$user", public, "My Schema").
func ParseSearchPath(s string) []string { return rewrite.SplitList(s) }

// MainDatabase is the database most production relations of m live in.
func MainDatabase(m *catalog.Manifest) string { return mainDatabase(m) }
