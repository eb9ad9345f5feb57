package catalog

import (
	"errors"
	"io"
	"time"
)

// Supported manifest schema versions: v9 (dbt 1.5) through v12 (dbt 1.8 and later).
const (
	MinSchemaVersion = 9
	MaxSchemaVersion = 12
)

// Metadata is the part of a manifest's "metadata" that identifies the production run (shown to users, SPEC §7).
type Metadata struct {
	// DbtSchemaVersion is the raw URL, e.g. https://schemas.getdbt.com/dbt/manifest/v12.json.
	DbtSchemaVersion string
	// SchemaVersion is the number in DbtSchemaVersion (9…12).
	SchemaVersion int
	DbtVersion    string
	// GeneratedAt is metadata.generated_at as written; GeneratedTime is it parsed (zero when unparsable).
	GeneratedAt   string
	GeneratedTime time.Time
	InvocationID  string
	ProjectName   string
	AdapterType   string
	// Env is metadata.env (DBT_ENV_CUSTOM_ENV_* values); nil when empty.
	Env map[string]string
}

// Node is what deferproxy keeps of one node or source of a manifest. Nodes are shared by every index of a Manifest
// and must not be modified.
type Node struct {
	UniqueID     string
	ResourceType string // "model", "seed", "snapshot", "source", "test", "analysis", …
	PackageName  string
	Name         string
	// Alias is the identifier dbt built (nodes: alias; sources: identifier).
	Alias    string
	Database string
	Schema   string
	// RelationName is relation_name as rendered by dbt ("db"."schema"."alias"); empty when null (ephemeral nodes,
	// tests, analyses).
	RelationName string
	// Config fields: materialized, and the custom schema/alias/database as configured (not rendered).
	Materialized   string
	ConfigSchema   string
	ConfigAlias    string
	ConfigDatabase string
	// TargetSchema and TargetDatabase are the legacy snapshot configs target_schema/target_database, which dbt uses
	// verbatim in every target (no generate_schema_name).
	TargetSchema   string
	TargetDatabase string
	// Version is the model version ("2", "1.5"); empty for unversioned nodes.
	Version string
	// DependsOn is depends_on.nodes.
	DependsOn []string
	// Relation is the production relation, normalised (parsed from RelationName, else built from
	// Database/Schema/Alias with the manifest's quoting); zero when the node has no relation.
	Relation Relation
}

// MacroOverride is a project's own generate_schema_name or generate_alias_name macro.
type MacroOverride struct {
	UniqueID string // macro.<project>.generate_schema_name
	SQL      string // macro_sql
}

// Manifest is an immutable snapshot of a loaded manifest with its indexes. It is safe for concurrent use.
type Manifest struct {
	meta        Metadata
	nodes       map[string]*Node
	byRelation  map[Relation]*Node
	prodSchemas map[SchemaName]struct{}
	// schemaOverride and aliasOverride are the project's generate_schema_name / generate_alias_name (nil: dbt's).
	schemaOverride *MacroOverride
	aliasOverride  *MacroOverride
	// quoting is metadata.quoting (nil means dbt's default: quote everything).
	quoting map[string]bool
	size    int64
}

// ErrUnsupportedSchema is wrapped by LoadManifest when metadata.dbt_schema_version is outside v9–v12.
var ErrUnsupportedSchema = errors.New("unsupported manifest schema version")

// LoadManifest reads a manifest.json from r, streaming: only the fields Node and Metadata hold are kept; compiled
// code, columns, docs and the rest are skipped without being materialised. A file that is not JSON, is truncated,
// or has an unsupported schema version returns an error (and no Manifest).
func LoadManifest(r io.Reader) (*Manifest, error) {
	return nil, errors.New("TODO")
}

// LoadManifestFile opens and loads path (see LoadManifest).
func LoadManifestFile(path string) (*Manifest, error) {
	return nil, errors.New("TODO")
}

// Metadata returns the manifest's metadata.
func (m *Manifest) Metadata() Metadata { return m.meta }

// Node returns the node or source with that unique_id.
func (m *Manifest) Node(uniqueID string) (*Node, bool) {
	n, ok := m.nodes[uniqueID]
	return n, ok
}

// Len is the number of nodes and sources kept.
func (m *Manifest) Len() int { return len(m.nodes) }

// Nodes calls fn for every node and source, in no particular order, until fn returns false.
func (m *Manifest) Nodes(fn func(*Node) bool) {
	for _, n := range m.nodes {
		if !fn(n) {
			return
		}
	}
}

// NodeByRelation returns the node or source whose production relation is rel (normalised parts).
func (m *Manifest) NodeByRelation(rel Relation) (*Node, bool) {
	n, ok := m.byRelation[rel]
	return n, ok
}

// IsProdSchema reports whether the schema holds the production relation of any node or source.
func (m *Manifest) IsProdSchema(s SchemaName) bool {
	_, ok := m.prodSchemas[s]
	return ok
}

// ProdSchemas returns the schemas that hold production relations, sorted.
func (m *Manifest) ProdSchemas() []SchemaName { return nil }

// Deferrable reports whether n may be deferred (SPEC §1, §4.6): a model, seed or snapshot, not ephemeral, with a
// relation_name.
func (m *Manifest) Deferrable(n *Node) bool {
	if n == nil || n.RelationName == "" || n.Materialized == "ephemeral" {
		return false
	}
	switch n.ResourceType {
	case "model", "seed", "snapshot":
		return true
	}
	return false
}

// SchemaNameOverride returns the project's generate_schema_name macro, or nil when the project uses dbt's.
func (m *Manifest) SchemaNameOverride() *MacroOverride { return m.schemaOverride }

// AliasNameOverride returns the project's generate_alias_name macro, or nil when the project uses dbt's.
func (m *Manifest) AliasNameOverride() *MacroOverride { return m.aliasOverride }

// Size is the number of bytes read from the manifest file.
func (m *Manifest) Size() int64 { return m.size }
