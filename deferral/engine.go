// Package deferral is the defer engine: it joins the production manifest, the developer's dev target and the SQL
// analysis of rewrite/ into an engine.Engine (the protocol-neutral contract front ends speak) that rewrites read references to production, guards production against dev
// writes and tells the client what it did (SPEC §4–§8).
//
// Per statement: the prefilter (dev schemas holding deferrable nodes, production schemas; plus node identifiers when
// the session's search_path reaches one of them) — no match, nothing else is done. Otherwise the shared analysis
// cache, one manifest snapshot, the dbt query comment (executing node, invocation), the write guard (never fails
// open), catalog.Decide for every read reference, the introspection literals of catalog queries, and the notices.
//
// Decisions this package makes where the SPEC leaves room:
//   - SET/RESET deferproxy.mode are forwarded to the server (PostgreSQL keeps a placeholder for two-part names, so
//     the client gets the server's own CommandComplete, and failed-transaction and protocol state stay exact) and
//     tracked here with PostgreSQL's rules: a SET inside a transaction that rolls back is undone, SET LOCAL ends
//     with the transaction. An invalid value is refused with 22023. SHOW deferproxy.mode and SHOW
//     deferproxy.status are rewritten to a one-row SELECT, which works in both protocols.
//   - notices: first — every statement with deferrals gets one NOTICE; the first of the session also carries, as
//     DETAIL, the manifest source, invocation id, dbt version and generated_at. all — every NOTICE carries it.
//     off — no deferral NOTICEs. WARNINGs (fail open, stale manifest, dev view over production) are always sent,
//     each once per session except the view warning, which follows every such CREATE VIEW.
//   - Statements that do not parse are forwarded unchanged (reads fail open, one WARNING per session); the write
//     guard still applies to the lexer's write targets, and refuses a write-looking statement whose target the
//     lexer could not read when a production schema name occurs in it.
//   - A named prepared statement is decided at its Parse and again whenever Current (current.go) says what that
//     decision depended on changed: the proxy prepares it again when the text differs (SPEC §10).
package deferral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
)

// Config configures an Engine; cmd/deferproxy builds it from the configuration (SPEC §12). Every field has a default
// except Manifest and a dev target (DevSchema, DevManifest or SchemaMap).
type Config struct {
	Manifest string // production manifest source: path, directory, URL, s3://, dbt-cloud://, paradime:// (docs/SPEC.md §9)
	// ManifestOptions configure the production manifest's source (poll, state_dir, credentials, run URL template);
	// its Logger and Name are the engine's.
	ManifestOptions catalog.StoreOptions
	DevManifest     string            // optional dev target/manifest.json (watched)
	DevSchema       string            // name or template over the login user, e.g. "dbt_{user}"
	DevDatabase     string            // default: the session's database
	SchemaMap       map[string]string // dev schema -> prod schema
	Mode            string            // "defer" (default) | "favor_state" | "off"
	AllowProdWrites bool
	CatalogDSN      string // pgx DSN for dev-catalog queries
	// SnowflakeCatalogDSN is a gosnowflake DSN for the dev catalog of Snowflake sessions (SHOW TERSE OBJECTS, SPEC §11).
	SnowflakeCatalogDSN string
	CatalogTimeout      time.Duration // 2s
	CatalogTTL          time.Duration // 10s
	OnCatalogError      string        // "open" (default) | "fail"
	Notices             string        // "first" (default) | "all" | "off"
	StaleAfter          time.Duration // 24h
	SelectedWindow      time.Duration // 30m
	// CatalogViewApps are the application_name values (case-insensitive, * and ? globs) whose sessions start with
	// deferproxy.catalog_view on (SPEC §5.6).
	CatalogViewApps []string
	Logger          *slog.Logger
}

// Engine is the defer engine. It implements engine.Engine; one Engine serves every session of a process.
type Engine struct {
	cfg       Config
	log       *slog.Logger
	prod      *catalog.ManifestStore
	dev       *catalog.ManifestStore // nil without DevManifest
	devcat    *catalog.DevCatalog
	sfcat     *catalog.DevCatalog // the dev catalog of Snowflake sessions (NewSnowflakeDevCatalog)
	existence catalog.Existence   // devcat, or a test double set by tests that cannot reach PostgreSQL
	sql       *sqlPort
	sel       *selection
	recent    *recentRing
	listings  *listingWatch
	failClose bool

	defaultMode atomic.Int32 // catalog.Mode for new sessions

	maps      sync.Map // targetKey → *targetState (DevMap + prefilter per dev target, rebuilt when manifests change)
	tagDevs   tagDevs  // dev manifests uploaded by deferproxy exec, by tag
	targetSeq atomic.Uint64

	sessMu   sync.Mutex
	sessions map[uint64]*session

	statements, rewritten, deferrals, refused, failedOpen, introspected atomic.Uint64
	memoHits                                                            atomic.Uint64 // statements answered from a session memo

	cancel context.CancelFunc
	closed atomic.Bool
}

var _ engine.Engine = (*Engine)(nil)

// New loads the manifests, prepares the dev catalog and starts the manifest watchers, which run until ctx is done or
// Close is called. A production manifest that does not load yet is not an error (SPEC §6).
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Manifest == "" {
		return nil, errors.New("defer engine: no production manifest configured: set --manifest (or manifest: in the config file)")
	}
	if cfg.DevSchema == "" && cfg.DevManifest == "" && len(cfg.SchemaMap) == 0 {
		return nil, errors.New("defer engine: no dev target: set --dev-schema (a name, or a template like dbt_{user}), --dev-manifest or --schema-map")
	}
	mode, err := catalog.ParseMode(cfg.Mode)
	if err != nil {
		return nil, fmt.Errorf("defer engine: %w", err)
	}
	switch cfg.OnCatalogError {
	case "", "open", "fail":
	default:
		return nil, fmt.Errorf("defer engine: on_catalog_error %q: use open or fail", cfg.OnCatalogError)
	}
	switch cfg.Notices {
	case "":
		cfg.Notices = "first"
	case "first", "all", "off":
	default:
		return nil, fmt.Errorf("defer engine: notices %q: use first, all or off", cfg.Notices)
	}
	if cfg.CatalogTimeout <= 0 {
		cfg.CatalogTimeout = 2 * time.Second
	}
	if cfg.CatalogTTL <= 0 {
		cfg.CatalogTTL = 10 * time.Second
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 24 * time.Hour
	}
	if cfg.SelectedWindow <= 0 {
		cfg.SelectedWindow = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{
		cfg:       cfg,
		log:       cfg.Logger,
		sql:       newSQLPort(),
		sel:       newSelection(cfg.SelectedWindow),
		recent:    newRecentRing(100),
		listings:  newListingWatch(),
		failClose: cfg.OnCatalogError == "fail",
		sessions:  map[uint64]*session{},
	}
	e.defaultMode.Store(int32(mode))

	prodOpts := cfg.ManifestOptions
	prodOpts.Logger, prodOpts.Name = cfg.Logger, "production manifest"
	e.prod, err = catalog.NewManifestStore(cfg.Manifest, prodOpts)
	if err != nil {
		return nil, fmt.Errorf("defer engine: %w", err)
	}
	if cfg.DevManifest != "" {
		e.dev, err = catalog.NewManifestStore(cfg.DevManifest, catalog.StoreOptions{Logger: cfg.Logger, Name: "dev manifest"})
		if err != nil {
			return nil, fmt.Errorf("defer engine: %w", err)
		}
	}
	if cfg.CatalogDSN != "" {
		e.devcat, err = catalog.NewDevCatalog(catalog.DevCatalogConfig{
			DSN: cfg.CatalogDSN, TTL: cfg.CatalogTTL, Timeout: cfg.CatalogTimeout, Logger: cfg.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("defer engine: dev catalog: %w", err)
		}
		e.existence = e.devcat
	}
	if cfg.SnowflakeCatalogDSN != "" {
		e.sfcat, err = catalog.NewSnowflakeDevCatalog(catalog.SnowflakeCatalogConfig{
			DSN: cfg.SnowflakeCatalogDSN, TTL: cfg.CatalogTTL, Timeout: cfg.CatalogTimeout, Logger: cfg.Logger,
		})
		if err != nil {
			e.closeCatalog()
			return nil, fmt.Errorf("defer engine: %w", err)
		}
	}

	wctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	// A production manifest that does not load yet (missing, truncated) is not fatal: the store keeps watching, and
	// until a good one loads every session is told once that statements pass unchanged (SPEC §6); a directory that
	// does not exist yet is the same. A watcher that cannot be set up at all is a configuration error.
	if err := e.prod.Start(wctx); err != nil {
		if e.prod.LastError() == nil {
			cancel()
			e.closeCatalog()
			return nil, fmt.Errorf("defer engine: %w", err)
		}
		e.log.Warn("production manifest not loaded; forwarding statements unchanged until it loads", "source", cfg.Manifest, "err", err)
	}
	if e.dev != nil {
		if err := e.dev.Start(wctx); err != nil {
			e.log.Warn("dev manifest not loaded yet; mapping falls back until dbt writes it", "source", cfg.DevManifest, "err", err)
		}
	}
	return e, nil
}

func (e *Engine) closeCatalog() {
	if e.devcat != nil {
		e.devcat.Close()
	}
	if e.sfcat != nil {
		e.sfcat.Close()
	}
}

// Close stops the watchers and closes the dev catalog's connections. Sessions still open keep working with the last
// snapshots but no longer see reloads.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	if e.cancel != nil {
		e.cancel()
	}
	e.prod.Wait()
	if e.dev != nil {
		e.dev.Wait()
	}
	e.closeCatalog()
	return nil
}

// SetDefaultMode changes the mode of sessions opened from now on (the admin API, SPEC §8).
func (e *Engine) SetDefaultMode(mode string) error {
	m, err := catalog.ParseMode(mode)
	if err != nil {
		return err
	}
	e.defaultMode.Store(int32(m))
	return nil
}

// OpenSession implements engine.Engine.
func (e *Engine) OpenSession(ctx context.Context, info engine.SessionInfo) engine.Session {
	s := newSession(e, info)
	e.sessMu.Lock()
	e.sessions[info.ID] = s
	e.sessMu.Unlock()
	return s
}

func (e *Engine) dropSession(id uint64) {
	e.sessMu.Lock()
	delete(e.sessions, id)
	e.sessMu.Unlock()
}

// targetKey identifies a dev target: the DevMap and prefilter depend only on it and on the manifests.
type targetKey struct {
	database, schema string
	// tag is deferproxy exec's tag when its sessions have an uploaded dev manifest ("" otherwise).
	tag string
}

// targetState is the per-target view of one pair of manifest snapshots.
type targetState struct {
	// id identifies this state (unique per engine) for those who must know whether the state changed without
	// keeping an old one, and the manifests it holds, alive: session memos and path filters of idle sessions.
	id        uint64
	key       targetKey
	prod, dev *catalog.Manifest
	devmap    *catalog.DevMap
	filter    prefilter
	// prodSchemas are the names (schema part) of the schemas holding production relations, for the write guard's
	// fail-closed check on statements that do not parse.
	prodSchemas []string
}

// targetFor is e.target for the session's own dev target, remembered by the session: the common case — nothing
// reloaded since its last statement — costs two pointer comparisons instead of hashing the target's key in the
// engine's shared map (measured: about a hundred instructions per statement, most of a prefilter miss's budget).
func (s *session) targetFor(prod *catalog.Manifest) *targetState {
	if s.target.tag == "" {
		var dev *catalog.Manifest
		if s.e.dev != nil {
			dev = s.e.dev.Current()
		}
		if ts := s.lastTarget.Load(); ts != nil && ts.prod == prod && ts.dev == dev {
			return ts
		}
	}
	ts := s.e.target(prod, s.target)
	s.lastTarget.Store(ts)
	return ts
}

// target returns the DevMap and prefilter for a dev target over the current manifests, building them once per
// manifest pair (reloads make the next statement rebuild; concurrent builders may race, and either result is right).
func (e *Engine) target(prod *catalog.Manifest, key targetKey) *targetState {
	var dev *catalog.Manifest
	if e.dev != nil {
		dev = e.dev.Current()
	}
	if key.tag != "" {
		if m := e.tagDevManifest(key.tag); m != nil {
			dev = m
		} else {
			key.tag = "" // no upload (yet): the shared state of the dev target
		}
	}
	if v, ok := e.maps.Load(key); ok {
		ts := v.(*targetState)
		if ts.prod == prod && ts.dev == dev {
			return ts
		}
	}
	dm := catalog.NewDevMap(catalog.DevMapConfig{
		Prod:      prod,
		Dev:       dev,
		SchemaMap: e.cfg.SchemaMap,
		Target:    catalog.DevTarget{Database: key.database, Schema: key.schema},
	})
	ts := &targetState{id: e.targetSeq.Add(1), key: key, prod: prod, dev: dev, devmap: dm}
	seen := map[string]bool{}
	var names []string
	for _, s := range dm.DevSchemas() {
		if !seen[s.Schema] {
			seen[s.Schema] = true
			names = append(names, s.Schema)
		}
	}
	for _, s := range prod.ProdSchemas() {
		ts.prodSchemas = append(ts.prodSchemas, s.Schema)
		if !seen[s.Schema] {
			seen[s.Schema] = true
			names = append(names, s.Schema)
		}
	}
	ts.filter = e.sql.newPrefilter(names)
	e.maps.Store(key, ts)
	return ts
}

// Status implements the admin view (SPEC §7).
func (e *Engine) Status() Status {
	st := Status{
		DefaultMode:     catalog.Mode(e.defaultMode.Load()).String(),
		Statements:      e.statements.Load(),
		Rewritten:       e.rewritten.Load(),
		Deferrals:       e.deferrals.Load(),
		Refused:         e.refused.Load(),
		FailedOpen:      e.failedOpen.Load(),
		IntrospectionRW: e.introspected.Load(),
		MemoHits:        e.memoHits.Load(),
		Recent:          e.recent.list(),
		Sessions:        []SessionStatus{},
		Warnings:        []Warning{},
	}
	cs := e.sql.cache.Stats()
	st.AnalysisHits, st.AnalysisShapeHits, st.Parses = cs.Hits, cs.ShapeHits, cs.Misses
	if err := e.prod.LastError(); err != nil {
		st.ProductionError = err.Error()
	}
	src := e.prod.Status()
	st.ProductionSource = &src
	if m := e.prod.Current(); m != nil {
		st.Production = e.runStatus(m)
		st.Mapping = e.mappingSummary(m)
		st.Warnings = append(st.Warnings, e.mappingWarnings(m)...)
	} else {
		st.Mapping = "none: no production manifest loaded"
	}
	if e.devcat != nil {
		st.DevCatalogNotify = e.devcat.Listening()
	}
	if n, recent := e.listings.status(); n > 0 {
		st.GetRelation = recent
		lw := recent[0]
		st.Warnings = append(st.Warnings, Warning{Kind: "get_relation", Count: int(n), Text: fmt.Sprintf(
			"%d times a dbt invocation listed a dev schema that lacks relations deferproxy read from production "+
				"(latest: %s lacks %s): %s, so they see those relations missing where native --defer sees production; "+
				"README \"Differences from native defer\"", n, lw.Schema, strings.Join(lw.Relations, ", "), listingMacros)})
	}
	e.sessMu.Lock()
	for _, s := range e.sessions {
		st.Sessions = append(st.Sessions, s.status())
	}
	e.sessMu.Unlock()
	sortSessions(st.Sessions)
	return st
}

func (e *Engine) runStatus(m *catalog.Manifest) *RunStatus {
	md, run := m.Metadata(), m.Run()
	rs := &RunStatus{
		Source:        e.prod.Source(),
		Label:         runLabel(m),
		RunID:         run.ID,
		Job:           run.Job,
		FinishedAt:    run.FinishedAt,
		URL:           run.URL,
		DBTVersion:    md.DbtVersion,
		InvocationID:  md.InvocationID,
		GeneratedAt:   md.GeneratedTime,
		LoadedAt:      e.prod.LoadedAt(),
		Nodes:         m.Len(),
		ProjectName:   md.ProjectName,
		SchemaVersion: md.DbtSchemaVersion,
	}
	if !md.GeneratedTime.IsZero() {
		age := time.Since(md.GeneratedTime)
		rs.AgeSeconds = age.Seconds()
		rs.Stale = age > e.cfg.StaleAfter
	}
	return rs
}

// mappingSummary explains the mapping in use for the configured dev target (templates are shown unexpanded).
func (e *Engine) mappingSummary(m *catalog.Manifest) string {
	ts := e.target(m, targetKey{database: e.cfg.DevDatabase, schema: e.cfg.DevSchema})
	return ts.devmap.Kind().String() + ": " + ts.devmap.Explain()
}

// mappingWarnings are the blind spots of the mapping for the configured dev target, as status warnings.
func (e *Engine) mappingWarnings(m *catalog.Manifest) []Warning {
	ts := e.target(m, targetKey{database: e.cfg.DevDatabase, schema: e.cfg.DevSchema})
	var out []Warning
	for _, b := range ts.devmap.BlindSpots() {
		out = append(out, Warning(b))
	}
	return out
}

// runLabel names a production run for humans: a scheduler's job and run id ("Nightly run 7000123"), else the
// project and the invocation id.
func runLabel(m *catalog.Manifest) string {
	md, run := m.Metadata(), m.Run()
	if run.Job != "" {
		return run.Label()
	}
	label := run.ID
	if label == "" {
		label = md.InvocationID
	}
	if label == "" {
		label = "(no invocation id)"
	}
	if md.ProjectName != "" {
		label = md.ProjectName + " " + label
	}
	return label
}
