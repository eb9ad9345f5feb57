package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deferproxy/deferproxy/rewrite"
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
	// ProjectID is metadata.project_id, dbt's hash of the project name ("" in manifests that leave it out).
	ProjectID   string
	AdapterType string
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
	// UnrenderedTargetSchema and UnrenderedTargetDatabase are the same configs as unrendered_config keeps them: a
	// Jinja template from dbt_project.yml or YAML ("{{ target.schema }}_snapshots"), the repr of a config() call's
	// argument when the project sets state_modified_compare_more_unrendered_values, or else the rendered value.
	// Derivation evaluates them over the dev target (snapshotTarget).
	UnrenderedTargetSchema   string
	UnrenderedTargetDatabase string
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
	dialect rewrite.Dialect
	size    int64
	// run is the production run that produced it, set by the ManifestStore before the snapshot is published.
	run Run
	// macro_sql of dbt's own macros, for recognising overrides that call or copy them.
	schemaForEnv, defaultSchema, defaultAlias string
}

// ErrUnsupportedSchema is wrapped by LoadManifest when metadata.dbt_schema_version is outside v9–v12.
var ErrUnsupportedSchema = errors.New("unsupported manifest schema version")

// LoadManifest reads a manifest.json from r, streaming: only the fields Node and Metadata hold are kept; compiled
// code, columns, docs and the rest are skipped without being materialised. A file that is not JSON, is truncated,
// or has an unsupported schema version returns an error (and no Manifest).
func LoadManifest(r io.Reader) (*Manifest, error) {
	cr := &countingReader{r: r}
	l := loader{
		dec:    json.NewDecoder(cr),
		nodes:  make(map[string]*Node),
		intern: make(map[string]string),
		macros: make(map[string]string),
	}
	if err := l.load(); err != nil {
		return nil, err
	}
	m, err := l.build()
	if err != nil {
		return nil, err
	}
	m.size = cr.n
	return m, nil
}

// LoadManifestFile opens and loads path (see LoadManifest).
func LoadManifestFile(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load manifest %s: %w", path, err)
	}
	defer f.Close()
	m, err := LoadManifest(f)
	if err != nil {
		return nil, fmt.Errorf("load manifest %s: %w", path, err)
	}
	return m, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// loader walks the top level of a manifest with Decoder tokens and decodes one node at a time into rawNode, whose
// unknown fields (compiled_code, columns, …) encoding/json skips without building values.
type loader struct {
	dec     *json.Decoder
	meta    *rawMetadata
	sawNode bool
	nodes   map[string]*Node
	// macros holds macro_sql of the macros that matter for dev derivation (see wantMacro), by unique_id.
	macros map[string]string
	intern map[string]string
}

type rawMetadata struct {
	DbtSchemaVersion string            `json:"dbt_schema_version"`
	DbtVersion       string            `json:"dbt_version"`
	GeneratedAt      string            `json:"generated_at"`
	InvocationID     string            `json:"invocation_id"`
	ProjectName      string            `json:"project_name"`
	ProjectID        string            `json:"project_id"`
	AdapterType      string            `json:"adapter_type"`
	Env              map[string]string `json:"env"`
	Quoting          map[string]*bool  `json:"quoting"`
}

type rawNode struct {
	UniqueID     string  `json:"unique_id"`
	ResourceType string  `json:"resource_type"`
	PackageName  string  `json:"package_name"`
	Name         string  `json:"name"`
	Alias        string  `json:"alias"`
	Identifier   string  `json:"identifier"`
	Database     string  `json:"database"`
	Schema       string  `json:"schema"`
	RelationName *string `json:"relation_name"`
	Version      version `json:"version"`
	Config       struct {
		Materialized   string `json:"materialized"`
		Schema         string `json:"schema"`
		Alias          string `json:"alias"`
		Database       string `json:"database"`
		TargetSchema   string `json:"target_schema"`
		TargetDatabase string `json:"target_database"`
	} `json:"config"`
	UnrenderedConfig struct {
		TargetSchema   jsonText `json:"target_schema"`
		TargetDatabase jsonText `json:"target_database"`
	} `json:"unrendered_config"`
	DependsOn struct {
		Nodes []string `json:"nodes"`
	} `json:"depends_on"`
}

// jsonText keeps a JSON string's text, and nothing for any other JSON value (unrendered_config values may be lists,
// numbers or objects for configs deferproxy does not read).
type jsonText string

func (t *jsonText) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = jsonText(s)
	}
	return nil
}

// version accepts a model version written as a number (2, 1.5) or a string ("2"), keeping its text.
type version string

func (v *version) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = version(s)
	default:
		*v = version(b)
	}
	return nil
}

type rawMacro struct {
	MacroSQL string `json:"macro_sql"`
}

// skip is the target for values deferproxy does not keep: encoding/json scans them (it must, to find their end)
// and hands the bytes to UnmarshalJSON, which drops them without building anything.
type skip struct{}

func (*skip) UnmarshalJSON([]byte) error { return nil }

func (l *loader) load() error {
	tok, err := l.dec.Token()
	if err != nil {
		return fmt.Errorf("not a JSON manifest: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a dbt manifest: the file is not a JSON object")
	}
	for l.dec.More() {
		key, err := l.key()
		if err != nil {
			return err
		}
		switch key {
		case "metadata":
			var md rawMetadata
			if err := l.dec.Decode(&md); err != nil {
				return fmt.Errorf("read metadata: %w", err)
			}
			if _, err := schemaVersion(md.DbtSchemaVersion); err != nil {
				// Fail early: nothing else of a wrong-schema manifest is worth reading.
				return err
			}
			l.meta = &md
		case "nodes", "sources":
			l.sawNode = true
			if err := l.eachEntry(key, l.node); err != nil {
				return err
			}
		case "macros":
			if err := l.eachEntry(key, l.macro); err != nil {
				return err
			}
		default:
			if err := l.skipValue(key); err != nil {
				return err
			}
		}
	}
	if _, err := l.dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("manifest is truncated: %w", err)
	}
	if _, err := l.dec.Token(); err != io.EOF {
		return errors.New("manifest has data after its closing brace")
	}
	if l.meta == nil {
		return errors.New("not a dbt manifest: no metadata")
	}
	if !l.sawNode {
		return errors.New("not a dbt manifest: no nodes")
	}
	return nil
}

func (l *loader) key() (string, error) {
	tok, err := l.dec.Token()
	if err != nil {
		return "", fmt.Errorf("manifest is truncated or not JSON: %w", err)
	}
	k, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("manifest is not JSON: unexpected %v", tok)
	}
	return k, nil
}

// eachEntry walks an object section ({"id": {...}, …}) and calls fn for each entry with the decoder positioned at its
// value; fn must consume the value.
func (l *loader) eachEntry(section string, fn func(id string) error) error {
	tok, err := l.dec.Token()
	if err != nil {
		return fmt.Errorf("read %s: %w", section, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if tok == nil { // "sources": null
			return nil
		}
		return fmt.Errorf("read %s: expected an object, found %v", section, tok)
	}
	for l.dec.More() {
		id, err := l.key()
		if err != nil {
			return fmt.Errorf("read %s: %w", section, err)
		}
		if err := fn(id); err != nil {
			return fmt.Errorf("read %s %q: %w", section, id, err)
		}
	}
	if _, err := l.dec.Token(); err != nil {
		return fmt.Errorf("read %s: %w", section, err)
	}
	return nil
}

// skipValue consumes one value. Objects and arrays are walked entry by entry so that a huge section (child_map,
// disabled, docs) is never buffered whole.
func (l *loader) skipValue(section string) error {
	tok, err := l.dec.Token()
	if err != nil {
		return fmt.Errorf("read %s: %w", section, err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar, already consumed
	}
	for l.dec.More() {
		if d == '{' {
			if _, err := l.key(); err != nil {
				return fmt.Errorf("read %s: %w", section, err)
			}
		}
		if err := l.dec.Decode(&skip{}); err != nil {
			return fmt.Errorf("read %s: %w", section, err)
		}
	}
	if _, err := l.dec.Token(); err != nil {
		return fmt.Errorf("read %s: %w", section, err)
	}
	return nil
}

func (l *loader) node(id string) error {
	var rn rawNode
	if err := l.dec.Decode(&rn); err != nil {
		return err
	}
	if rn.UniqueID == "" {
		rn.UniqueID = id
	}
	n := &Node{
		UniqueID:                 rn.UniqueID,
		ResourceType:             l.str(rn.ResourceType),
		PackageName:              l.str(rn.PackageName),
		Name:                     rn.Name,
		Alias:                    rn.Alias,
		Database:                 l.str(rn.Database),
		Schema:                   l.str(rn.Schema),
		Materialized:             l.str(rn.Config.Materialized),
		ConfigSchema:             l.str(rn.Config.Schema),
		ConfigAlias:              rn.Config.Alias,
		ConfigDatabase:           l.str(rn.Config.Database),
		TargetSchema:             l.str(rn.Config.TargetSchema),
		TargetDatabase:           l.str(rn.Config.TargetDatabase),
		UnrenderedTargetSchema:   string(rn.UnrenderedConfig.TargetSchema),
		UnrenderedTargetDatabase: string(rn.UnrenderedConfig.TargetDatabase),
		Version:                  string(rn.Version),
		DependsOn:                rn.DependsOn.Nodes,
	}
	if n.ResourceType == "source" || n.Alias == "" {
		if rn.Identifier != "" {
			n.Alias = rn.Identifier
		} else if n.Alias == "" {
			n.Alias = n.Name
		}
	}
	if rn.RelationName != nil {
		n.RelationName = *rn.RelationName
	}
	l.nodes[n.UniqueID] = n
	return nil
}

func (l *loader) macro(id string) error {
	if !wantMacro(id) {
		return l.dec.Decode(&skip{})
	}
	var rm rawMacro
	if err := l.dec.Decode(&rm); err != nil {
		return err
	}
	l.macros[id] = rm.MacroSQL
	return nil
}

// wantMacro keeps the macros that decide where dbt builds a node: every generate_schema_name/generate_alias_name
// (and their dispatched default__/<adapter>__ forms) and dbt's own generate_schema_name_for_env, to recognise a
// project that calls or copies it. The project name may only be known after the macros section (keys are sorted
// in some writers), so the choice of the project's own macro is made in build.
func wantMacro(id string) bool {
	i := strings.LastIndexByte(id, '.')
	if i < 0 || !strings.HasPrefix(id, "macro.") {
		return false
	}
	name := id[i+1:]
	if j := strings.Index(name, "__"); j >= 0 {
		name = name[j+2:]
	}
	return name == "generate_schema_name" || name == "generate_alias_name" || name == "generate_schema_name_for_env"
}

func (l *loader) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := l.intern[s]; ok {
		return v
	}
	l.intern[s] = s
	return s
}

// schemaVersion extracts N from https://schemas.getdbt.com/dbt/manifest/vN.json and checks it is supported.
func schemaVersion(url string) (int, error) {
	const hint = "deferproxy reads manifests of dbt 1.5 and later (schema v9–v12)"
	i := strings.LastIndex(url, "/manifest/v")
	if i < 0 || !strings.HasSuffix(url, ".json") {
		if url == "" {
			return 0, fmt.Errorf("%w: metadata.dbt_schema_version is missing; %s", ErrUnsupportedSchema, hint)
		}
		return 0, fmt.Errorf("%w: %q is not a manifest schema; %s", ErrUnsupportedSchema, url, hint)
	}
	v, err := strconv.Atoi(url[i+len("/manifest/v") : len(url)-len(".json")])
	if err != nil {
		return 0, fmt.Errorf("%w: %q; %s", ErrUnsupportedSchema, url, hint)
	}
	if v < MinSchemaVersion || v > MaxSchemaVersion {
		return v, fmt.Errorf("%w: v%d; %s (regenerate it with a newer dbt)", ErrUnsupportedSchema, v, hint)
	}
	return v, nil
}

func (l *loader) build() (*Manifest, error) {
	md := l.meta
	v, err := schemaVersion(md.DbtSchemaVersion)
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		meta: Metadata{
			DbtSchemaVersion: md.DbtSchemaVersion,
			SchemaVersion:    v,
			DbtVersion:       md.DbtVersion,
			GeneratedAt:      md.GeneratedAt,
			InvocationID:     md.InvocationID,
			ProjectName:      md.ProjectName,
			ProjectID:        md.ProjectID,
			AdapterType:      md.AdapterType,
		},
		nodes:       l.nodes,
		byRelation:  make(map[Relation]*Node, len(l.nodes)),
		prodSchemas: make(map[SchemaName]struct{}),
		quoting:     make(map[string]bool),
	}
	if len(md.Env) > 0 {
		m.meta.Env = md.Env
	}
	if t, err := time.Parse(time.RFC3339Nano, md.GeneratedAt); err == nil {
		m.meta.GeneratedTime = t
	}
	for k, q := range md.Quoting {
		if q != nil {
			m.quoting[k] = *q
		}
	}
	m.dialect = rewrite.Postgres
	if strings.EqualFold(md.AdapterType, "snowflake") {
		m.dialect = rewrite.Snowflake
	}
	for _, n := range l.nodes {
		n.Relation = m.relationOf(n)
		if n.Relation.Identifier == "" {
			continue
		}
		if old, ok := m.byRelation[n.Relation]; !ok || relationRank(m, n) > relationRank(m, old) ||
			(relationRank(m, n) == relationRank(m, old) && n.UniqueID < old.UniqueID) {
			m.byRelation[n.Relation] = n
		}
		m.prodSchemas[SchemaName{n.Relation.Database, n.Relation.Schema}] = struct{}{}
	}
	m.schemaOverride = l.override(md.ProjectName, md.AdapterType, "generate_schema_name")
	m.aliasOverride = l.override(md.ProjectName, md.AdapterType, "generate_alias_name")
	m.schemaForEnv = l.macros["macro.dbt.generate_schema_name_for_env"]
	m.defaultSchema = l.macros["macro.dbt.default__generate_schema_name"]
	m.defaultAlias = l.macros["macro.dbt.default__generate_alias_name"]
	return m, nil
}

// relationRank orders nodes sharing one relation (a seed and the source that reads it, in the stripe package's
// integration tests): the deferrable node wins, then any node, then a source.
func relationRank(m *Manifest, n *Node) int {
	switch {
	case m.Deferrable(n):
		return 2
	case n.ResourceType != "source":
		return 1
	}
	return 0
}

// override returns the root project's own macro for name, searching the names dbt's dispatch would find there:
// name, <adapter>__name, default__name.
func (l *loader) override(project, adapter, name string) *MacroOverride {
	if project == "" {
		return nil
	}
	for _, cand := range []string{name, adapter + "__" + name, "default__" + name} {
		id := "macro." + project + "." + cand
		if sql, ok := l.macros[id]; ok {
			return &MacroOverride{UniqueID: id, SQL: sql}
		}
	}
	return nil
}

// relationOf computes a node's production relation: relation_name parsed (it is exactly what dbt renders in SQL),
// else database/schema/alias with the manifest's quoting. Nodes without relation_name (ephemeral models, tests) have
// none.
func (m *Manifest) relationOf(n *Node) Relation {
	if n.RelationName == "" {
		return Relation{}
	}
	parts, err := SplitName(m.dialect, n.RelationName)
	if err == nil {
		switch len(parts) {
		case 3:
			return Relation{parts[0], parts[1], parts[2]}
		case 2:
			return Relation{m.part("database", n.Database), parts[0], parts[1]}
		}
	}
	return Relation{m.part("database", n.Database), m.part("schema", n.Schema), m.part("identifier", n.Alias)}
}

// part normalises one manifest name part as dbt renders it: quoted (exact) unless the project's quoting turns it off.
// Without a quoting config the adapter's default applies: dbt-postgres quotes every part, dbt-snowflake none
// (SnowflakeQuotePolicy), so Snowflake names fold to upper case.
func (m *Manifest) part(kind, s string) string {
	q, ok := m.quoting[kind]
	if !ok {
		q = m.dialect != rewrite.Snowflake
	}
	if !q {
		return Fold(m.dialect, s)
	}
	return s
}

// Dialect is the warehouse dialect of the manifest's adapter (Snowflake for adapter_type snowflake, else PostgreSQL).
func (m *Manifest) Dialect() rewrite.Dialect { return m.dialect }

// NormalizePart turns a name part as the manifest holds it (database, schema or identifier of a node or config)
// into the normalised form dbt's rendering gives it: exact when dbt quotes that kind (the default), folded when the
// project's quoting config turns quoting off.
func (m *Manifest) NormalizePart(kind, s string) string { return m.part(kind, s) }

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
func (m *Manifest) ProdSchemas() []SchemaName {
	out := make([]SchemaName, 0, len(m.prodSchemas))
	for s := range m.prodSchemas {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b SchemaName) int {
		if c := strings.Compare(a.Database, b.Database); c != 0 {
			return c
		}
		return strings.Compare(a.Schema, b.Schema)
	})
	return out
}

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

// Run is the production run that produced the manifest, as its source knows it (zero for a manifest loaded
// outside a ManifestStore).
func (m *Manifest) Run() Run { return m.run }

// Size is the number of bytes read from the manifest file.
func (m *Manifest) Size() int64 { return m.size }
