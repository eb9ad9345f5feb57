package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
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
	rels    []Relation // the dev relations of production nodes, sorted
	schemas []SchemaName
	// schemaMap is the parsed SchemaMap (MapSchemaMap).
	schemaMap []schemaMapEntry
	// warnings are parts of the project the mapping cannot see (docs/SPEC.md §3.3), for status.
	warnings []string
	// snaps is how derivation mapped the snapshots with a legacy target_schema/target_database.
	snaps snapshotCounts
	// mapped holds the unique_ids a schema map gave a dev relation.
	mapped map[string]bool
	// refused names what made derivation impossible ("generate_schema_name", "generate_alias_name",
	// "dev_schema"); "" when it ran or was not tried.
	refused string
	// unmapped counts the deferrable production nodes that no dev relation maps to; firstUnmapped names a few.
	unmapped      int
	firstUnmapped []string
}

type schemaMapEntry struct {
	dev, prod SchemaName // Database "" = any / same
}

// NewDevMap builds the index with the SPEC §3 precedence: a dev manifest, when configured, is used alone (it knows
// every dev relation exactly). Otherwise derivation maps every node, and a schema map adds to it: the nodes of a
// mapped production schema take the mapped dev schema instead of the derived one, and the rest keep theirs — a map
// for the snapshots' schema does not unmap the models. When derivation is refused (a project generate_schema_name
// override that is not generate_schema_name_for_env) the schema map alone maps (MapSchemaMap); with neither, or when
// a SchemaMap entry does not parse, the DevMap has kind MapNone and Explain says what to configure instead.
func NewDevMap(cfg DevMapConfig) *DevMap {
	d := &DevMap{byDev: make(map[Relation]Match), devOf: make(map[string]Relation)}
	if cfg.Prod == nil {
		d.explain = "no production manifest is loaded, so no dev relation maps to production"
		return d
	}
	switch {
	case cfg.Dev != nil:
		d.fromDevManifest(cfg)
	case len(cfg.SchemaMap) > 0:
		d.derive(cfg)
		d.fromSchemaMap(cfg)
	default:
		d.derive(cfg)
	}
	// Snapshots a schema map maps are understood after all; the rest are a warning.
	d.snaps.unsupported = slices.DeleteFunc(d.snaps.unsupported, func(id string) bool { return d.mapped[id] })
	d.warnings = append(d.warnings, d.snaps.warnings(mappingAdvice)...)
	for _, w := range d.warnings {
		d.explain += "; WARNING: " + w
	}
	d.collectSchemas(cfg.Prod)
	d.countUnmapped(cfg.Prod)
	for rel, m := range d.byDev {
		if m.Prod != nil {
			d.rels = append(d.rels, rel)
		}
	}
	slices.SortFunc(d.rels, func(a, b Relation) int {
		return cmp.Or(cmp.Compare(a.Database, b.Database), cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Identifier, b.Identifier))
	})
	return d
}

func (d *DevMap) add(dev Relation, uid string, prod *Node, pm *Manifest) {
	if old, ok := d.byDev[dev]; ok {
		// Two nodes with one dev relation (dbt itself would fail to build both): keep one deterministically, the
		// deferrable one first.
		oldDef, newDef := pm.Deferrable(old.Prod), pm.Deferrable(prod)
		if oldDef && !newDef || oldDef == newDef && old.UniqueID < uid {
			return
		}
	}
	d.byDev[dev] = Match{UniqueID: uid, Prod: prod}
	d.devOf[uid] = dev
}

func (d *DevMap) fromDevManifest(cfg DevMapConfig) {
	d.kind = MapDevManifest
	joined, newInDev := 0, 0
	cfg.Dev.Nodes(func(n *Node) bool {
		if n.ResourceType == "source" || n.Relation.Identifier == "" {
			return true
		}
		prod, _ := cfg.Prod.Node(n.UniqueID)
		if prod != nil {
			joined++
		} else {
			newInDev++
		}
		d.add(n.Relation, n.UniqueID, prod, cfg.Prod)
		return true
	})
	md := cfg.Dev.Metadata()
	d.explain = fmt.Sprintf("dev manifest (project %s, generated_at %s): %d dev relations joined on unique_id with "+
		"production, %d new in dev; it takes precedence over a schema map and derivation (docs/SPEC.md §3.1)",
		md.ProjectName, md.GeneratedAt, joined, newInDev)
	if len(cfg.SchemaMap) > 0 {
		d.explain += "; the configured schema map is not used"
	}
}

// fromSchemaMap maps every production node in a mapped prod schema to the same identifier in the dev schema.
func (d *DevMap) fromSchemaMap(cfg DevMapConfig) {
	var entries []schemaMapEntry
	keys := make([]string, 0, len(cfg.SchemaMap))
	for k := range cfg.SchemaMap {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dev, err1 := parseSchemaName(cfg.Dialect, k)
		prod, err2 := parseSchemaName(cfg.Dialect, cfg.SchemaMap[k])
		if err := errors.Join(err1, err2); err != nil {
			d.kind = MapNone
			d.explain = fmt.Sprintf("schema map entry %s=%s does not parse (%v); write dev_schema=prod_schema or "+
				"dev_db.dev_schema=prod_db.prod_schema", k, cfg.SchemaMap[k], err)
			return
		}
		entries = append(entries, schemaMapEntry{dev: dev, prod: prod})
	}
	derived := d.kind == MapDerived
	if !derived {
		// Derivation was refused: the map is all there is; what derivation said stays in the explanation.
		d.kind = MapSchemaMap
		clear(d.byDev)
		clear(d.devOf)
	}
	d.schemaMap = entries
	n := 0
	cfg.Prod.Nodes(func(node *Node) bool {
		if node.ResourceType == "source" || node.Relation.Identifier == "" {
			return true
		}
		for _, e := range entries {
			if e.prod.Schema != node.Relation.Schema || (e.prod.Database != "" && e.prod.Database != node.Relation.Database) {
				continue
			}
			if d.mapped == nil {
				d.mapped = make(map[string]bool)
			}
			d.mapped[node.UniqueID] = true
			if old, ok := d.devOf[node.UniqueID]; ok && d.byDev[old].UniqueID == node.UniqueID {
				delete(d.byDev, old) // the map overrides the derived relation of this node
			}
			d.add(Relation{Database: e.dev.Database, Schema: e.dev.Schema, Identifier: node.Relation.Identifier},
				node.UniqueID, node, cfg.Prod)
			n++
		}
		return true
	})
	pairs := make([]string, len(entries))
	for i, e := range entries {
		pairs[i] = schemaLabel(e.dev) + "→" + schemaLabel(e.prod)
	}
	sentence := fmt.Sprintf("schema map %s: %d production relations matched by identifier (docs/SPEC.md §3.2)",
		strings.Join(pairs, ", "), n)
	if derived {
		d.explain += "; the " + sentence + " override their derived dev relations"
	} else {
		d.explain = sentence + "; " + d.explain
	}
}

func schemaLabel(s SchemaName) string {
	if s.Database == "" {
		return quoteIdent(s.Schema)
	}
	return s.String()
}

// parseSchemaName parses "schema" or "database.schema" (Database "" = any).
func parseSchemaName(dl rewrite.Dialect, s string) (SchemaName, error) {
	parts, err := SplitName(dl, strings.TrimSpace(s))
	if err != nil {
		return SchemaName{}, err
	}
	switch len(parts) {
	case 1:
		return SchemaName{Schema: parts[0]}, nil
	case 2:
		return SchemaName{Database: parts[0], Schema: parts[1]}, nil
	}
	return SchemaName{}, fmt.Errorf("%q is not schema or database.schema", s)
}

// schemaRule is how the project names schemas, read from its generate_schema_name.
type schemaRule int

const (
	ruleDefault schemaRule = iota // dbt's default: <target>_<custom>
	ruleForEnv                    // generate_schema_name_for_env: in dev, everything in the target schema
	ruleCustom                    // anything else: cannot derive
)

// classifySchemaMacro recognises the project's generate_schema_name: one that calls or copies dbt's
// generate_schema_name_for_env, or copies dbt's default, is understood; anything else is not.
func classifySchemaMacro(m *Manifest) schemaRule {
	o := m.SchemaNameOverride()
	if o == nil {
		return ruleDefault
	}
	body := macroBody(o.SQL)
	switch {
	case body == "":
		return ruleCustom
	case m.schemaForEnv != "" && body == macroBody(m.schemaForEnv), isForEnvCall(body):
		return ruleForEnv
	case m.defaultSchema != "" && body == macroBody(m.defaultSchema), body == macroBody(builtinDefaultSchema):
		return ruleDefault
	case body == macroBody(builtinForEnv):
		return ruleForEnv
	}
	return ruleCustom
}

// dbt's own macro bodies (dbt-core 1.5–1.11), for manifests that do not carry them.
const (
	builtinDefaultSchema = `{% macro default__generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}`
	builtinForEnv = `{% macro generate_schema_name_for_env(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if target.name == 'prod' and custom_schema_name is not none -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default_schema }}
    {%- endif -%}
{%- endmacro %}`
	builtinDefaultAlias = `{% macro default__generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- if custom_alias_name -%}
        {{ custom_alias_name | trim }}
    {%- elif node.version -%}
        {{ return(node.name ~ "_v" ~ (node.version | replace(".", "_"))) }}
    {%- else -%}
        {{ node.name }}
    {%- endif -%}
{%- endmacro %}`
)

// macroBody strips a macro's {% macro … %} header and {% endmacro %} footer and removes all whitespace and Jinja
// whitespace-control dashes, so that copies that differ only in layout compare equal.
func macroBody(sql string) string {
	s := sql
	if i := strings.Index(s, "%}"); i >= 0 && strings.Contains(s[:i], "macro") {
		s = s[i+2:]
	}
	if i := strings.LastIndex(s, "{%"); i >= 0 && strings.Contains(s[i:], "endmacro") {
		s = s[:i]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) {
			continue
		}
		if c == '-' && (i > 0 && (s[i-1] == '%' || s[i-1] == '{') || i+1 < len(s) && (s[i+1] == '%' || s[i+1] == '}')) {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isForEnvCall matches a body that only delegates to generate_schema_name_for_env, e.g.
// {{ generate_schema_name_for_env(custom_schema_name, node) }} or {{ return(generate_schema_name_for_env(…)) }}.
func isForEnvCall(body string) bool {
	for _, p := range []string{"{{generate_schema_name_for_env(", "{{dbt.generate_schema_name_for_env(",
		"{{return(generate_schema_name_for_env(", "{{return(dbt.generate_schema_name_for_env("} {
		if strings.HasPrefix(body, p) && strings.HasSuffix(body, "}}") && strings.Count(body, "{{") == 1 &&
			!strings.Contains(body, "{%") {
			return true
		}
	}
	return false
}

func isDefaultAlias(m *Manifest) bool {
	o := m.AliasNameOverride()
	if o == nil {
		return true
	}
	body := macroBody(o.SQL)
	return body != "" && (m.defaultAlias != "" && body == macroBody(m.defaultAlias) || body == macroBody(builtinDefaultAlias))
}

// mappingAdvice is what to configure when derivation cannot see (part of) the project.
const mappingAdvice = "configure dev_manifest (the developer's target/manifest.json) or schema_map (dev_schema=prod_schema)"

// derive computes each production node's dev relation with dbt's rules over the dev target (SPEC §3.3).
func (d *DevMap) derive(cfg DevMapConfig) {
	pm := cfg.Prod
	const ask = mappingAdvice
	rule := classifySchemaMacro(pm)
	if rule == ruleCustom {
		d.kind, d.refused = MapNone, "generate_schema_name"
		d.explain = fmt.Sprintf("cannot derive dev relations: the project overrides generate_schema_name (%s) with "+
			"logic deferproxy does not know; %s", pm.SchemaNameOverride().UniqueID, ask)
		return
	}
	if !isDefaultAlias(pm) {
		d.kind, d.refused = MapNone, "generate_alias_name"
		d.explain = fmt.Sprintf("cannot derive dev relations: the project overrides generate_alias_name (%s) with "+
			"logic deferproxy does not know; %s", pm.AliasNameOverride().UniqueID, ask)
		return
	}
	if cfg.Target.Schema == "" {
		d.kind, d.refused = MapNone, "dev_schema"
		d.explain = "cannot derive dev relations: no dev schema is configured; set dev_schema (a name or a " +
			"template like dbt_{user}), or " + ask
		return
	}
	d.kind = MapDerived
	n := 0
	env := prodTargetOf(pm)
	env.schema, env.database = cfg.Target.Schema, cfg.Target.Database
	var snaps snapshotCounts
	pm.Nodes(func(node *Node) bool {
		if node.ResourceType == "source" || node.Relation.Identifier == "" {
			return true
		}
		rel, how, err := deriveRelation(pm, node, cfg.Target, rule, env)
		snaps.count(node, how, err)
		d.add(rel, node.UniqueID, node, pm)
		n++
		return true
	})
	target := quoteIdent(cfg.Target.Schema)
	if cfg.Target.Database != "" {
		target = quoteIdent(cfg.Target.Database) + "." + target
	}
	how := "dbt's default generate_schema_name (custom schema → <target>_<custom>)"
	if rule == ruleForEnv {
		how = fmt.Sprintf("the project's generate_schema_name_for_env pattern (%s: custom schemas only in "+
			"production, every node in the target schema in dev)", pm.SchemaNameOverride().UniqueID)
	}
	d.explain = fmt.Sprintf("derived from the production manifest for dev target %s with %s and dbt's default "+
		"generate_alias_name: %d relations (docs/SPEC.md §3.3; no dev manifest configured)", target, how, n)
	d.explain += snaps.explain()
	d.snaps = snaps
}

// deriveRelation is where `dbt run` with the dev target builds node, per dbt's default generate_database_name,
// generate_schema_name (or the _for_env pattern) and generate_alias_name. Legacy snapshot target_schema/
// target_database bypass those macros: they are evaluated for the dev target (evalTargetConfig), and when that is
// not possible production's value is used verbatim (how and err say which, for the warnings). The identifier is the
// production alias: dbt's default alias (config alias, or name, or name_v<version> with dots as underscores) does not
// depend on the target.
func deriveRelation(pm *Manifest, n *Node, t DevTarget, rule schemaRule, env targetEnv) (Relation, targetHow, error) {
	how, firstErr := targetLiteral, error(nil)
	target := func(attr, unrendered, rendered string) string {
		v, h, err := evalTargetConfig(attr, unrendered, rendered, env)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			return rendered
		}
		if h != targetLiteral && how != targetInferred {
			how = h
		}
		return v
	}
	db := t.Database
	switch {
	case n.TargetDatabase != "":
		if v := target("database", n.UnrenderedTargetDatabase, n.TargetDatabase); v != "" {
			db = pm.part("database", v)
		}
	case n.ConfigDatabase != "":
		db = pm.part("database", strings.TrimSpace(n.ConfigDatabase))
	}
	var schema string
	switch {
	case n.TargetSchema != "":
		schema = pm.part("schema", target("schema", n.UnrenderedTargetSchema, n.TargetSchema))
	case rule == ruleForEnv || strings.TrimSpace(n.ConfigSchema) == "":
		schema = pm.part("schema", t.Schema)
	default:
		schema = pm.part("schema", t.Schema+"_"+strings.TrimSpace(n.ConfigSchema))
	}
	return Relation{Database: db, Schema: schema, Identifier: n.Relation.Identifier}, how, firstErr
}

// prodTargetOf returns production's target schema and database as its nodes show them: the most common schema and
// database of the models and seeds that set no custom schema or database (ties: the smaller name).
func prodTargetOf(pm *Manifest) targetEnv {
	schemas, dbs := map[string]int{}, map[string]int{}
	pm.Nodes(func(n *Node) bool {
		if (n.ResourceType == "model" || n.ResourceType == "seed") && n.Relation.Identifier != "" &&
			strings.TrimSpace(n.ConfigSchema) == "" && n.TargetSchema == "" {
			schemas[n.Schema]++
			if strings.TrimSpace(n.ConfigDatabase) == "" {
				dbs[n.Database]++
			}
		}
		return true
	})
	most := func(m map[string]int) string {
		best, bestN := "", 0
		for k, c := range m {
			if c > bestN || c == bestN && k < best {
				best, bestN = k, c
			}
		}
		return best
	}
	return targetEnv{prodSchema: most(schemas), prodDatabase: most(dbs)}
}

// snapshotCounts tallies how the snapshots with a legacy target_schema/target_database were mapped.
type snapshotCounts struct {
	exact, literal, inferred int
	unsupported              []string // unique_ids
	firstErr                 error
}

func (c *snapshotCounts) count(n *Node, how targetHow, err error) {
	if n.TargetSchema == "" && n.TargetDatabase == "" {
		return
	}
	switch {
	case err != nil:
		c.unsupported = append(c.unsupported, n.UniqueID)
		c.firstErr = cmp.Or(c.firstErr, err)
	case how == targetExact:
		c.exact++
	case how == targetInferred:
		c.inferred++
	default:
		c.literal++
	}
}

// explain is the sentence the mapping's explanation gains when there are such snapshots.
func (c *snapshotCounts) explain() string {
	if c.exact+c.literal+c.inferred+len(c.unsupported) == 0 {
		return ""
	}
	s := fmt.Sprintf("; snapshots with target_schema/target_database: %d evaluated for the dev target, %d literal", c.exact, c.literal)
	if c.inferred > 0 {
		s += fmt.Sprintf(", %d inferred from production's value (production's target plus a suffix)", c.inferred)
	}
	if len(c.unsupported) > 0 {
		s += fmt.Sprintf(", %d not understood", len(c.unsupported))
	}
	return s
}

// warnings are what status shows loudly: snapshots whose dev relation is a guess (production's own).
func (c *snapshotCounts) warnings(ask string) []string {
	if len(c.unsupported) == 0 {
		return nil
	}
	ids := c.unsupported
	more := ""
	if len(ids) > 3 {
		ids, more = ids[:3], fmt.Sprintf(" and %d more", len(c.unsupported)-3)
	}
	return []string{fmt.Sprintf("%d snapshots have a target_schema/target_database deferproxy cannot evaluate for the "+
		"dev target (%s%s: %v); their dev relations are taken to be production's, so reads of them are never "+
		"deferred: %s", len(c.unsupported), strings.Join(ids, ", "), more, c.firstErr, ask)}
}

// DeriveAlias is dbt's default generate_alias_name: the configured alias, else name_v<version> (dots as
// underscores) for a versioned model, else the name.
func DeriveAlias(n *Node) string {
	switch {
	case strings.TrimSpace(n.ConfigAlias) != "":
		return strings.TrimSpace(n.ConfigAlias)
	case n.Version != "":
		return n.Name + "_v" + strings.ReplaceAll(n.Version, ".", "_")
	}
	return n.Name
}

func (d *DevMap) collectSchemas(pm *Manifest) {
	set := make(map[SchemaName]struct{})
	for rel, m := range d.byDev {
		// A dev relation that is the production relation itself (legacy snapshot target_schema) never defers, and
		// its schema is a production schema: leave it out of the prefilter's dev schemas.
		if pm.Deferrable(m.Prod) && rel != m.Prod.Relation {
			set[SchemaName{rel.Database, rel.Schema}] = struct{}{}
		}
	}
	d.schemas = make([]SchemaName, 0, len(set))
	for s := range set {
		d.schemas = append(d.schemas, s)
	}
	slices.SortFunc(d.schemas, compareSchema)
}

func compareSchema(a, b SchemaName) int {
	if c := strings.Compare(a.Database, b.Database); c != 0 {
		return c
	}
	return strings.Compare(a.Schema, b.Schema)
}

// Warnings lists the parts of the project the mapping in use cannot see, each a sentence that says what to configure.
func (d *DevMap) Warnings() []string { return d.warnings }

// Kind is the mapping source in use.
func (d *DevMap) Kind() MappingKind { return d.kind }

// Explain is a human sentence naming the mapping source in use and why (for status and --explain).
func (d *DevMap) Explain() string { return d.explain }

// Lookup maps a dev relation (normalised parts) to its node. false: the relation is no node's dev relation.
// Entries whose dev database is unknown (no dev database configured, or a schema-map key without one) match any
// database.
func (d *DevMap) Lookup(rel Relation) (Match, bool) {
	if m, ok := d.byDev[rel]; ok {
		return m, ok
	}
	if rel.Database != "" {
		rel.Database = ""
		m, ok := d.byDev[rel]
		return m, ok
	}
	return Match{}, false
}

// DevRelation returns the dev relation of the node with that unique_id, when the map knows it (Database "" when
// it is not known).
func (d *DevMap) DevRelation(uniqueID string) (Relation, bool) {
	r, ok := d.devOf[uniqueID]
	return r, ok
}

// Relations returns the dev relations that map to a production node, sorted (the catalog view's candidates, SPEC
// §5.6). Database "" means the session's database. The slice is shared: do not modify it.
func (d *DevMap) Relations() []Relation { return d.rels }

// DevSchemas returns the dev schemas that hold dev relations of deferrable production nodes, sorted (for the
// rewrite prefilter and the dev catalog). Database "" means the session's database.
func (d *DevMap) DevSchemas() []SchemaName { return d.schemas }
