package catalog

import (
	"context"
	"errors"
	"log/slog"
	"time"
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
}

// DevCatalog knows which relations exist in dev schemas: one pg_class query per (database, schema), cached for
// TTL, shared by concurrent callers (singleflight), invalidated by DDL seen through the proxy.
type DevCatalog struct {
	cfg DevCatalogConfig
}

// NewDevCatalog checks the DSN and prepares the catalog; pools are opened lazily, per database, on first use.
func NewDevCatalog(cfg DevCatalogConfig) (*DevCatalog, error) {
	return nil, errors.New("TODO")
}

// Exists reports whether rel exists (table, view, materialized view, partitioned or foreign table). Warm: no round
// trip. Errors wrap ErrCatalogUnavailable.
func (c *DevCatalog) Exists(ctx context.Context, rel Relation) (bool, error) {
	return false, errors.New("TODO")
}

// Relations returns the relation names of one schema and their pg_class relkind ('r', 'v', 'm', 'p', 'f'). The
// map is shared: do not modify it.
func (c *DevCatalog) Relations(ctx context.Context, s SchemaName) (map[string]byte, error) {
	return nil, errors.New("TODO")
}

// Invalidate forgets the listing of one schema (DDL seen through the proxy, applied when its transaction ends).
func (c *DevCatalog) Invalidate(database, schema string) {}

// InvalidateAll forgets every listing.
func (c *DevCatalog) InvalidateAll() {}

// Stats returns counters since NewDevCatalog.
func (c *DevCatalog) Stats() CatalogStats { return CatalogStats{} }

// Close closes every pool.
func (c *DevCatalog) Close() {}

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
