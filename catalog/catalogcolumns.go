package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/rewrite"
)

// catalogColumnsQuery lists the columns of the catalog relations the catalog view rewrites (SPEC §5.6), with their
// types as SQL writes them, in order.
const catalogColumnsQuery = `SELECT n.nspname || '.' || c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname || '.' || c.relname = ANY ($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, a.attnum`

// CatalogColumns returns the columns of the viewed catalogs in one database, asked once per database and kept (a
// server's catalogs change only with its major version, which means new connections anyway).
func (c *DevCatalog) CatalogColumns(ctx context.Context, db string) (rewrite.CatalogColumns, error) {
	c.mu.RLock()
	cols, ok := c.catalogCols[db]
	c.mu.RUnlock()
	if ok {
		return cols, nil
	}
	pool, err := c.pool(db)
	if err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, catalogColumnsQuery, rewrite.ViewedCatalogRelations())
	if err != nil {
		return nil, fmt.Errorf("list the catalogs' columns: %w", err)
	}
	cols = rewrite.CatalogColumns{}
	var rel, name, typ string
	if _, err := pgx.ForEachRow(rows, []any{&rel, &name, &typ}, func() error {
		cols[rel] = append(cols[rel], rewrite.Column{Name: name, Type: typ})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list the catalogs' columns: %w", err)
	}
	c.mu.Lock()
	if c.catalogCols == nil {
		c.catalogCols = map[string]rewrite.CatalogColumns{}
	}
	c.catalogCols[db] = cols
	c.mu.Unlock()
	return cols, nil
}
