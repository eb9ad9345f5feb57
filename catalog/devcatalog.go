package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"

	"github.com/deferproxy/deferproxy/rewrite"
	"github.com/deferproxy/deferproxy/secret"
)

// Existence answers whether a relation exists in the dev target. DevCatalog implements it over PostgreSQL;
// StaticCatalog over a fixed list (for `deferproxy rewrite --exists`).
type Existence interface {
	Exists(ctx context.Context, rel Relation) (bool, error)
}

// DevCatalogConfig configures a DevCatalog.
type DevCatalogConfig struct {
	// DSN is a pgx connection string for catalog queries. Its database is replaced by the database asked about,
	// because PostgreSQL can read pg_class only of the database it is connected to: one pool per database.
	DSN string
	// TTL is how long a schema's listing is trusted before it is refreshed (default 10 s).
	TTL time.Duration
	// Timeout bounds one catalog query, connection included (default 2 s).
	Timeout time.Duration
	// MaxConns per database pool (default 2).
	MaxConns int32
	Logger   *slog.Logger
	// NoNotify turns off the LISTEN connection per database that keeps listings current when the database has
	// deferproxy's DDL notification triggers (devnotify.go); without them it only checks now and then.
	NoNotify bool
}

// ErrCatalogUnavailable is wrapped by every DevCatalog error (connection, timeout, query): the engine turns it into
// fail-open or an error per on_catalog_error (SPEC §6).
var ErrCatalogUnavailable = errors.New("dev catalog unavailable")

// CatalogStats counts what the DevCatalog did.
type CatalogStats struct {
	Queries uint64 // catalog queries sent to PostgreSQL
	Hits    uint64 // lookups answered from a fresh cache entry
	Misses  uint64 // lookups that had to wait for a query
	Errors  uint64
	// Notified counts listings forgotten because a DDL notification named their schema.
	Notified uint64
}

// DevCatalog knows which relations exist in dev schemas: one pg_class query per (database, schema), cached for
// TTL, shared by concurrent callers (singleflight), invalidated by DDL seen through the proxy and, where the
// database has deferproxy's event triggers, by DDL from anywhere (devnotify.go).
type DevCatalog struct {
	cfg  DevCatalogConfig
	base *pgxpool.Config

	mu    sync.RWMutex
	pools map[string]*pgxpool.Pool
	cache map[SchemaName]*schemaEntry
	// gen counts invalidations per schema: a listing started before an Invalidate must not be cached after it, and
	// callers after an Invalidate must not join a query started before it (the generation is in the flight key).
	gen    map[SchemaName]uint64
	closed bool
	// catalogCols are the viewed catalogs' columns per database (CatalogColumns).
	catalogCols map[string]rewrite.CatalogColumns

	flight singleflight.Group
	// list runs one catalog query; tests wrap it to count round trips.
	list func(ctx context.Context, s SchemaName) (map[string]byte, error)

	queries, hits, misses, errs atomic.Uint64
	listings                    atomic.Uint64 // the last listing id handed out
	notified                    atomic.Uint64

	// listening is, per database (pool key), whether DDL notifications keep its listings current.
	listening map[string]bool
	// stopListen ends the LISTEN goroutines; listeners counts them for Close.
	listenCtx  context.Context
	stopListen context.CancelFunc
	listeners  sync.WaitGroup
	// closeFn closes what a catalog over another warehouse opened (NewSnowflakeDevCatalog); nil for PostgreSQL.
	closeFn func()
}

type schemaEntry struct {
	id      uint64 // unique per listing (see ListingID)
	rels    map[string]byte
	fetched time.Time
	err     error // a failed listing, remembered for errBackoff so an outage does not cost a timeout per statement
}

// errBackoff is how long a failed listing is remembered before the catalog is asked again.
const errBackoff = time.Second

// listQuery lists the relations of one schema that a statement can read: tables, views, materialized views,
// partitioned tables and foreign tables.
const listQuery = `SELECT c.relname, c.relkind::text FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')`

// NewDevCatalog checks the DSN and prepares the catalog; pools are opened lazily, per database, on first use.
func NewDevCatalog(cfg DevCatalogConfig) (*DevCatalog, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	base, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("catalog DSN: %w (give a postgres:// URL or key=value DSN for catalog queries)", secret.ConnError(cfg.DSN, err))
	}
	base.MaxConns = cfg.MaxConns
	base.MinConns = 0
	base.ConnConfig.ConnectTimeout = cfg.Timeout
	base.ConnConfig.RuntimeParams["application_name"] = "deferproxy catalog"
	c := &DevCatalog{
		cfg:       cfg,
		base:      base,
		pools:     make(map[string]*pgxpool.Pool),
		cache:     make(map[SchemaName]*schemaEntry),
		gen:       make(map[SchemaName]uint64),
		listening: make(map[string]bool),
	}
	c.listenCtx, c.stopListen = context.WithCancel(context.Background())
	c.list = c.query
	return c, nil
}

// Exists reports whether rel exists (table, view, materialized view, partitioned or foreign table). Warm: no round
// trip. Errors wrap ErrCatalogUnavailable.
func (c *DevCatalog) Exists(ctx context.Context, rel Relation) (bool, error) {
	ok, _, err := c.ExistsListing(ctx, rel)
	return ok, err
}

// ExistsListing is Exists that also returns the id of the listing that answered (see ListingID).
func (c *DevCatalog) ExistsListing(ctx context.Context, rel Relation) (bool, uint64, error) {
	e, err := c.listing(ctx, SchemaName{Database: rel.Database, Schema: rel.Schema})
	if err != nil {
		return false, 0, err
	}
	_, ok := e.rels[rel.Identifier]
	return ok, e.id, nil
}

// ListingID returns the id of the listing of s that Exists would answer from now without a round trip, or 0 when
// there is none (never listed, expired, failed or invalidated since). Equal non-zero ids are the same listing: a
// caller that memoizes decisions drawn from ExistsListing keeps them exactly while the ids it saw are current.
func (c *DevCatalog) ListingID(s SchemaName) uint64 {
	c.mu.RLock()
	e, ok := c.cache[s]
	c.mu.RUnlock()
	if !ok || e.err != nil || time.Since(e.fetched) >= c.cfg.TTL {
		return 0
	}
	return e.id
}

// Relations returns the relation names of one schema and their pg_class relkind ('r', 'v', 'm', 'p', 'f'). The
// map is shared: do not modify it. Database "" is the DSN's database.
func (c *DevCatalog) Relations(ctx context.Context, s SchemaName) (map[string]byte, error) {
	e, err := c.listing(ctx, s)
	if err != nil {
		return nil, err
	}
	return e.rels, nil
}

// listing returns the current listing of s, from the cache when it is fresh, else from one catalog query shared
// by every caller that asks meanwhile.
func (c *DevCatalog) listing(ctx context.Context, s SchemaName) (*schemaEntry, error) {
	now := time.Now()
	c.mu.RLock()
	e, ok := c.cache[s]
	gen := c.gen[s]
	c.mu.RUnlock()
	if ok {
		if e.err == nil && now.Sub(e.fetched) < c.cfg.TTL {
			c.hits.Add(1)
			return e, nil
		}
		if e.err != nil && now.Sub(e.fetched) < errBackoff {
			c.errs.Add(1)
			return nil, e.err
		}
	}
	c.misses.Add(1)
	key := s.Database + "\x00" + s.Schema + "\x00" + strconv.FormatUint(gen, 10)
	ch := c.flight.DoChan(key, func() (any, error) {
		// Detached from the first caller's context: its cancellation must not fail the others sharing the query.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
		defer cancel()
		rels, err := c.list(qctx, s)
		entry := &schemaEntry{id: c.listings.Add(1), rels: rels, fetched: time.Now()}
		if err != nil {
			c.errs.Add(1)
			err = fmt.Errorf("%w: list %s: %w", ErrCatalogUnavailable, s, err)
			entry = &schemaEntry{err: err, fetched: time.Now()}
			c.cfg.Logger.Warn("dev catalog query failed", "schema", s.String(), "err", err)
		}
		c.mu.Lock()
		if c.gen[s] == gen && !c.closed {
			c.cache[s] = entry
		}
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return entry, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*schemaEntry), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: list %s: %w", ErrCatalogUnavailable, s, ctx.Err())
	}
}

// query runs listQuery on the pool of s.Database.
func (c *DevCatalog) query(ctx context.Context, s SchemaName) (map[string]byte, error) {
	pool, err := c.pool(s.Database)
	if err != nil {
		return nil, err
	}
	c.queries.Add(1)
	rows, err := pool.Query(ctx, listQuery, s.Schema)
	if err != nil {
		return nil, err
	}
	rels := make(map[string]byte)
	var name, kind string
	_, err = pgx.ForEachRow(rows, []any{&name, &kind}, func() error {
		if kind != "" {
			rels[name] = kind[0]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rels, nil
}

// pool returns the pool for one database, creating it on first use: PostgreSQL can read pg_class only of the
// database a connection is in.
func (c *DevCatalog) pool(db string) (*pgxpool.Pool, error) {
	c.mu.RLock()
	p, ok := c.pools[db]
	closed := c.closed
	c.mu.RUnlock()
	if ok {
		return p, nil
	}
	if closed {
		return nil, errors.New("dev catalog is closed")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pools[db]; ok {
		return p, nil
	}
	cfg := c.base.Copy()
	if db != "" {
		cfg.ConnConfig.Database = db
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	c.pools[db] = p
	if !c.cfg.NoNotify {
		c.listening[db] = false
		c.listeners.Add(1)
		go func() {
			defer c.listeners.Done()
			c.listen(c.listenCtx, db)
		}()
	}
	return p, nil
}

// Invalidate forgets the listing of one schema (DDL seen through the proxy, applied when its transaction ends).
func (c *DevCatalog) Invalidate(database, schema string) {
	s := SchemaName{Database: database, Schema: schema}
	c.mu.Lock()
	delete(c.cache, s)
	c.gen[s]++
	c.mu.Unlock()
}

// InvalidateAll forgets every listing.
func (c *DevCatalog) InvalidateAll() {
	c.mu.Lock()
	for s := range c.cache {
		c.gen[s]++
	}
	clear(c.cache)
	c.mu.Unlock()
}

// Stats returns counters since NewDevCatalog.
func (c *DevCatalog) Stats() CatalogStats {
	return CatalogStats{Queries: c.queries.Load(), Hits: c.hits.Load(), Misses: c.misses.Load(), Errors: c.errs.Load(),
		Notified: c.notified.Load()}
}

// Close closes every pool.
func (c *DevCatalog) Close() {
	c.mu.Lock()
	c.closed = true
	pools := c.pools
	c.pools = make(map[string]*pgxpool.Pool)
	c.mu.Unlock()
	c.stopListen()
	c.listeners.Wait()
	for _, p := range pools {
		p.Close()
	}
	if c.closeFn != nil {
		c.closeFn()
	}
}

// StaticCatalog is an Existence over a fixed set of relations.
type StaticCatalog map[Relation]struct{}

// NewStaticCatalog returns a StaticCatalog holding rels.
func NewStaticCatalog(rels ...Relation) StaticCatalog {
	s := make(StaticCatalog, len(rels))
	for _, r := range rels {
		s[r] = struct{}{}
	}
	return s
}

// Exists reports whether rel is in the set.
func (s StaticCatalog) Exists(_ context.Context, rel Relation) (bool, error) {
	_, ok := s[rel]
	return ok, nil
}

// Unavailable is the Existence of an engine without a dev catalog: every question fails with ErrCatalogUnavailable
// and why, so reads fail open (or closed, per on_catalog_error).
type Unavailable struct{ Why string }

// Exists always fails.
func (u Unavailable) Exists(context.Context, Relation) (bool, error) {
	return false, fmt.Errorf("%w: %s", ErrCatalogUnavailable, u.Why)
}

// Overlay answers from Relations first — a session's own uncommitted DDL: created (true) or dropped (false) — and
// from Base for everything else.
type Overlay struct {
	Base      Existence
	Relations map[Relation]bool
}

// Exists implements Existence.
func (o Overlay) Exists(ctx context.Context, rel Relation) (bool, error) {
	if v, ok := o.Relations[rel]; ok {
		return v, nil
	}
	return o.Base.Exists(ctx, rel)
}

// Listing identifies the dev catalog listing an existence answer came from (DevCatalog.ListingID). ID 0 marks an
// answer that did not come from a listing that can be checked later.
type Listing struct {
	Schema SchemaName
	ID     uint64
}

// listingCatalog is an Existence that can say which listing answered (DevCatalog).
type listingCatalog interface {
	ExistsListing(ctx context.Context, rel Relation) (bool, uint64, error)
}
