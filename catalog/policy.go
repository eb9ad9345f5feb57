package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/deferproxy/deferproxy/rewrite"
)

// Mode is a session's defer mode (SPEC §1, §4).
type Mode int

const (
	// ModeDefer: a reference defers when its dev relation does not exist (SPEC §4.1). The default.
	ModeDefer Mode = iota
	// ModeFavorState: a reference defers when its node is not selected, or its dev relation does not exist (§4.2).
	ModeFavorState
	// ModeOff: nothing defers (§4.4); the write guard still applies.
	ModeOff
)

// String returns the configuration spelling: "defer", "favor_state", "off".
func (m Mode) String() string {
	switch m {
	case ModeFavorState:
		return "favor_state"
	case ModeOff:
		return "off"
	}
	return "defer"
}

// ParseMode parses "defer", "favor_state" (also "favor-state") or "off"; "" is defer. Like PostgreSQL's enum
// settings it ignores case and surrounding space: the one validation of a mode, whether it comes from the
// configuration, the admin API or SET deferproxy.mode.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "defer":
		return ModeDefer, nil
	case "favor_state", "favor-state":
		return ModeFavorState, nil
	case "off":
		return ModeOff, nil
	}
	return ModeDefer, fmt.Errorf("unknown deferproxy mode %q: use defer, favor_state or off", s)
}

// Scope is where unqualified names of a session resolve: its database and search_path (schema names normalised,
// "$user" already expanded, pg_temp/pg_catalog left out).
type Scope struct {
	Database   string
	SearchPath []string
}

// Request is everything Decide needs about one read reference. Manifest, DevMap and Catalog must come from one
// snapshot for the whole statement.
type Request struct {
	Ref      rewrite.Reference
	Scope    Scope
	Manifest *Manifest
	DevMap   *DevMap
	// Catalog answers dev existence; it is consulted only when the decision depends on it.
	Catalog Existence
	Mode    Mode
	// Selected reports whether a node (by unique_id) is selected in this session (SPEC §4.3); nil: none is.
	Selected func(uniqueID string) bool
	// Executing is the node_id of the statement's query comment: that node's own relation is never deferred.
	Executing string
	// TempTable reports whether an unqualified name is a temp table of this session; nil: none is.
	TempTable func(name string) bool
	// CrossDatabase is true when the warehouse can read another database (Snowflake); false for PostgreSQL.
	CrossDatabase bool
	// Consulted, when non-nil, receives the listings the dev catalog answers came from, each once, so the caller can
	// keep the decision exactly while those listings are current (the engine's session memo). An answer from a
	// second listing of a schema already recorded is recorded with ID 0: the decisions drew on two listings. The
	// schema names are the caller's to keep: they do not alias the statement text.
	Consulted *[]Listing
}

// Action is Decide's verdict.
type Action int

const (
	// Keep: forward the reference as written.
	Keep Action = iota
	// Defer: replace the reference with Decision.To.
	Defer
)

func (a Action) String() string {
	if a == Defer {
		return "defer"
	}
	return "keep"
}

// Decision is the verdict on one read reference.
type Decision struct {
	Action Action
	// To is the replacement name parts (unquoted, as stored), as many as the reference wrote (SPEC §5.4), except that
	// an unqualified name becomes schema.name. Set only for Defer.
	To []string
	// Node is the production node the reference maps to (nil when it maps to none).
	Node *Node
	// Dev is the dev relation the reference names (resolved through the search_path when unqualified); Prod is the
	// node's production relation.
	Dev, Prod Relation
	// CrossDatabase is true when the reference would defer but production lies in another database that the
	// warehouse cannot read; the client is told (SPEC §5.4).
	CrossDatabase bool
	// Reason says why, for notices and `deferproxy rewrite --explain`.
	Reason string
}

// Decide applies SPEC §4 to one read reference. An error means the dev catalog could not answer (it wraps
// ErrCatalogUnavailable); the Decision is then Keep, and the engine fails open or closed per configuration (SPEC §6).
//
// The dev catalog is consulted only when the answer depends on it: never for names that map to no node, for
// non-deferrable nodes, or for unselected nodes in favor_state.
func Decide(ctx context.Context, req Request) (Decision, error) {
	ref := req.Ref
	parts := ref.Normalized
	if len(parts) == 0 || len(parts) > 3 {
		return keep("not a relation name"), nil
	}
	if ref.Role != rewrite.Read {
		return keep(ref.Role.String() + " target: never rewritten (docs/SPEC.md §5.2)"), nil
	}
	name := parts[len(parts)-1]
	if why := neverRewritten(name); why != "" {
		return keep(why), nil
	}
	if req.Manifest == nil {
		return keep("no production manifest is loaded"), nil
	}
	if req.DevMap == nil {
		return keep("no dev mapping is configured"), nil
	}
	switch len(parts) {
	case 3:
		if !req.CrossDatabase && req.Scope.Database != "" && parts[0] != req.Scope.Database {
			// PostgreSQL rejects a cross-database reference itself; asking the catalog (a pool per database) is waste.
			return keep(fmt.Sprintf("%s names another database than the session's (%s): left to the server",
				Relation{parts[0], parts[1], parts[2]}, quoteIdent(req.Scope.Database))), nil
		}
		return decideRelation(ctx, &req, Relation{parts[0], parts[1], parts[2]})
	case 2:
		return decideRelation(ctx, &req, Relation{req.Scope.Database, parts[0], parts[1]})
	}
	return decideUnqualified(ctx, &req, name)
}

func keep(reason string) Decision { return Decision{Action: Keep, Reason: reason} }

// neverRewritten returns why a name is never rewritten (SPEC §4.5), or "".
func neverRewritten(name string) string {
	switch {
	case strings.HasPrefix(name, "__dbt__cte__"):
		return "ephemeral model CTE (__dbt__cte__): never rewritten"
	case strings.Contains(name, "__dbt_tmp"):
		return "dbt temporary relation (__dbt_tmp): never rewritten"
	case strings.Contains(name, "__dbt_backup"):
		return "dbt backup relation (__dbt_backup): never rewritten"
	}
	return ""
}

func decideRelation(ctx context.Context, req *Request, dev Relation) (Decision, error) {
	m, ok := req.DevMap.Lookup(dev)
	if !ok {
		if n, ok := req.Manifest.NodeByRelation(dev); ok {
			d := keep(fmt.Sprintf("%s is already the production relation of %s", dev, n.UniqueID))
			d.Node, d.Prod = n, n.Relation
			return d, nil
		}
		return keep(fmt.Sprintf("%s is no dbt node's dev relation", dev)), nil
	}
	return decideNode(ctx, req, dev, m)
}

// decideUnqualified resolves a one-part name through the search_path as PostgreSQL would: the first schema that has
// the name wins. Only when some search_path schema would hold a node's dev relation is the catalog asked.
func decideUnqualified(ctx context.Context, req *Request, name string) (Decision, error) {
	if req.TempTable != nil && req.TempTable(name) {
		return keep("temporary table of this session: never rewritten"), nil
	}
	k := -1
	var m Match
	var dev Relation
	for i, schema := range req.Scope.SearchPath {
		rel := Relation{req.Scope.Database, schema, name}
		if mm, ok := req.DevMap.Lookup(rel); ok {
			k, m, dev = i, mm, rel
			break
		}
	}
	if k < 0 {
		return keep(fmt.Sprintf("unqualified %s is no dbt node's dev relation in search_path %s",
			quoteIdent(name), strings.Join(req.Scope.SearchPath, ", "))), nil
	}
	// An earlier search_path schema that has the name shadows the dev relation.
	for _, schema := range req.Scope.SearchPath[:k] {
		rel := Relation{req.Scope.Database, schema, name}
		exists, err := exists(ctx, req, rel)
		if err != nil {
			return keep("dev catalog unavailable: " + err.Error()), err
		}
		if exists {
			return keep(fmt.Sprintf("unqualified %s resolves to %s, earlier in the search_path", quoteIdent(name), rel)), nil
		}
	}
	return decideNode(ctx, req, dev, m)
}

func exists(ctx context.Context, req *Request, rel Relation) (bool, error) {
	if req.Catalog == nil {
		return false, fmt.Errorf("%w: no dev catalog configured", ErrCatalogUnavailable)
	}
	if req.Consulted == nil {
		return req.Catalog.Exists(ctx, rel)
	}
	var found bool
	var id uint64
	var err error
	if lc, ok := req.Catalog.(listingCatalog); ok {
		found, id, err = lc.ExistsListing(ctx, rel)
	} else {
		found, err = req.Catalog.Exists(ctx, rel)
	}
	if err != nil {
		return false, err
	}
	for _, l := range *req.Consulted {
		if l.Schema.Database == rel.Database && l.Schema.Schema == rel.Schema {
			if l.ID != id {
				*req.Consulted = append(*req.Consulted, Listing{ID: 0})
			}
			return found, nil
		}
	}
	*req.Consulted = append(*req.Consulted, Listing{Schema: SchemaName{Database: strings.Clone(rel.Database), Schema: strings.Clone(rel.Schema)}, ID: id})
	return found, nil
}

func decideNode(ctx context.Context, req *Request, dev Relation, m Match) (Decision, error) {
	d := Decision{Action: Keep, Node: m.Prod, Dev: dev}
	n := m.Prod
	switch {
	case n == nil:
		d.Reason = fmt.Sprintf("%s is new in dev: not in the production manifest (docs/SPEC.md §4.6)", m.UniqueID)
		return d, nil
	case n.ResourceType == "source":
		d.Reason = fmt.Sprintf("%s is a source: never deferred", n.UniqueID)
		return d, nil
	case !req.Manifest.Deferrable(n):
		what := n.ResourceType
		if n.Materialized == "ephemeral" {
			what = "ephemeral " + what
		}
		d.Reason = fmt.Sprintf("%s is a %s in production: not deferrable (docs/SPEC.md §4.6)", n.UniqueID, what)
		return d, nil
	}
	d.Prod = n.Relation
	switch {
	case req.Executing != "" && req.Executing == n.UniqueID:
		d.Reason = fmt.Sprintf("%s is the executing node ({{ this }}): never deferred", n.UniqueID)
		return d, nil
	case d.Prod == dev:
		d.Reason = fmt.Sprintf("%s is both the dev and the production relation of %s", dev, n.UniqueID)
		return d, nil
	case req.Mode == ModeOff:
		d.Reason = "mode off: nothing is deferred"
		return d, nil
	}
	var why string
	if req.Mode == ModeFavorState && (req.Selected == nil || !req.Selected(n.UniqueID)) {
		why = fmt.Sprintf("favor_state and %s is not selected", n.UniqueID)
	} else {
		ok, err := exists(ctx, req, dev)
		if err != nil {
			d.Reason = "dev catalog unavailable: " + err.Error()
			return d, err
		}
		if ok {
			if req.Mode == ModeFavorState {
				d.Reason = fmt.Sprintf("favor_state, %s is selected and %s exists in dev", n.UniqueID, dev)
			} else {
				d.Reason = fmt.Sprintf("%s exists in dev", dev)
			}
			return d, nil
		}
		why = fmt.Sprintf("%s does not exist in dev", dev)
	}
	sessionDB := req.Scope.Database
	sameDB := d.Prod.Database == sessionDB || sessionDB == "" && d.Prod.Database == dev.Database
	if !sameDB && !req.CrossDatabase {
		d.CrossDatabase = true
		d.Reason = fmt.Sprintf("%s; but production %s is in database %s and PostgreSQL cannot read across databases: "+
			"not deferred", why, d.Prod, quoteIdent(d.Prod.Database))
		return d, nil
	}
	d.Action = Defer
	switch {
	case len(req.Ref.Normalized) == 3 || !sameDB:
		d.To = []string{d.Prod.Database, d.Prod.Schema, d.Prod.Identifier}
	default:
		d.To = []string{d.Prod.Schema, d.Prod.Identifier}
	}
	d.Reason = fmt.Sprintf("%s: deferred to %s", why, d.Prod)
	return d, nil
}

// ProdWriteGuard reports whether a write target must be refused (SPEC §6): it names the production relation of a
// node or source, or lies in a schema that holds production relations. prodRelation names what was hit, for the
// 42501 message. Unqualified targets are checked against every schema of the search_path (and the first schema,
// where PostgreSQL creates new relations, must not be a production schema). Temporary tables are the caller's to
// exempt: a Reference does not say TEMP.
func ProdWriteGuard(m *Manifest, ref rewrite.Reference, scope Scope) (prodRelation string, refused bool) {
	parts := ref.Normalized
	if m == nil || len(parts) == 0 || len(parts) > 3 {
		return "", false
	}
	switch len(parts) {
	case 3:
		return guardRelation(m, Relation{parts[0], parts[1], parts[2]})
	case 2:
		return guardRelation(m, Relation{scope.Database, parts[0], parts[1]})
	}
	for _, schema := range scope.SearchPath {
		if n, ok := m.NodeByRelation(Relation{scope.Database, schema, parts[0]}); ok {
			return n.Relation.String(), true
		}
	}
	if len(scope.SearchPath) > 0 {
		rel := Relation{scope.Database, scope.SearchPath[0], parts[0]}
		if m.IsProdSchema(SchemaName{rel.Database, rel.Schema}) {
			return rel.String(), true
		}
	}
	return "", false
}

func guardRelation(m *Manifest, rel Relation) (string, bool) {
	if n, ok := m.NodeByRelation(rel); ok {
		return n.Relation.String(), true
	}
	if m.IsProdSchema(SchemaName{rel.Database, rel.Schema}) {
		return rel.String(), true
	}
	return "", false
}
