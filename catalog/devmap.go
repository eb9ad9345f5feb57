package catalog

import (
	"strings"

	"github.com/deferproxy/deferproxy/rewrite"
)

// MappingKind says which SPEC §3 source a DevMap uses.
type MappingKind int

const (
	// MapNone: no mapping is possible (derivation refused and no dev manifest or schema map); nothing defers.
	MapNone MappingKind = iota
	// MapDevManifest: dev relations come from the dev manifest, joined with production on unique_id (SPEC §3.1).
	MapDevManifest
	// MapSchemaMap: an explicit dev_schema → prod_schema map, matched by identifier (SPEC §3.2).
	MapSchemaMap
	// MapDerived: dbt's default generate_schema_name/generate_alias_name over the dev target (SPEC §3.3).
	MapDerived
)

func (k MappingKind) String() string {
	switch k {
	case MapDevManifest:
		return "dev-manifest"
	case MapSchemaMap:
		return "schema-map"
	case MapDerived:
		return "derived"
	}
	return "none"
}

// DevTarget is the developer's dbt target: where `dbt run` builds (normalised parts, like Relation).
type DevTarget struct {
	Database string
	Schema   string
}

// ExpandSchemaTemplate replaces {user} in a dev schema template (e.g. "dbt_{user}") with the login user. A name
// without {user} is returned as is.
func ExpandSchemaTemplate(tmpl, user string) string {
	return strings.ReplaceAll(tmpl, "{user}", user)
}

// DevMapConfig is what NewDevMap builds from.
type DevMapConfig struct {
	// Prod is the production manifest (required).
	Prod *Manifest
	// Dev is the developer's own manifest (optional). When set it takes precedence over everything else.
	Dev *Manifest
	// SchemaMap maps dev schemas to prod schemas. Keys and values are "schema" or "database.schema"; each part is
	// folded like an unquoted identifier unless written in double quotes. A key without a database matches any.
	SchemaMap map[string]string
	// Target is the session's dev target, used for derivation (schema already expanded from its template).
	Target DevTarget
	// Dialect decides identifier folding for SchemaMap entries (default PostgreSQL).
	Dialect rewrite.Dialect
}

// Match is what a dev relation maps to.
type Match struct {
	// UniqueID is the node's unique_id.
	UniqueID string
	// Prod is the production node with that unique_id, nil when production does not have it (new in dev).
	Prod *Node
}

// DevMap is an immutable index dev relation → node, built from one DevMapConfig. Safe for concurrent use.
type DevMap struct {
	kind    MappingKind
	explain string
	byDev   map[Relation]Match
	devOf   map[string]Relation
	schemas []SchemaName
	// schemaMap (MapSchemaMap) is matched at lookup time.
	schemaMap []schemaMapEntry
}

type schemaMapEntry struct {
	dev, prod SchemaName // Database "" = any / same
}

// NewDevMap builds the index with the SPEC §3 precedence: dev manifest, then schema map, then derivation. When
// derivation is refused (a project generate_schema_name override that is not generate_schema_name_for_env), the
// DevMap has kind MapNone and Explain says what to configure instead.
func NewDevMap(cfg DevMapConfig) *DevMap {
	return &DevMap{kind: MapNone, explain: "TODO"}
}

// Kind is the mapping source in use.
func (d *DevMap) Kind() MappingKind { return d.kind }

// Explain is a human sentence naming the mapping source in use and why (for status and --explain).
func (d *DevMap) Explain() string { return d.explain }

// Lookup maps a dev relation (normalised parts) to its node. false: the relation is no node's dev relation.
func (d *DevMap) Lookup(rel Relation) (Match, bool) {
	m, ok := d.byDev[rel]
	return m, ok
}

// DevRelation returns the dev relation of the node with that unique_id, when the map knows it.
func (d *DevMap) DevRelation(uniqueID string) (Relation, bool) {
	r, ok := d.devOf[uniqueID]
	return r, ok
}

// DevSchemas returns the dev schemas that hold dev relations of deferrable production nodes, sorted (for the
// rewrite prefilter and the dev catalog).
func (d *DevMap) DevSchemas() []SchemaName { return d.schemas }
