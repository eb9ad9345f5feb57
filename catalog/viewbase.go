package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// A write into a dev view lands in the view's base relation (an automatically updatable view), or wherever its
// INSTEAD OF trigger or rule says. The write guard asks which relations a dev view reads, so that a write through a
// dev view over production is refused (SPEC §6).

// viewBasesQuery follows a view's rewrite rule to every relation it reads, through views on views (32 levels at
// most), and returns them with their schemas.
const viewBasesQuery = `
WITH RECURSIVE v(oid, depth) AS (
	SELECT c.oid, 0 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = $1 AND c.relname = $2
	UNION
	SELECT d.refobjid, v.depth + 1 FROM v
	JOIN pg_rewrite r ON r.ev_class = v.oid
	JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
		AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
	WHERE v.depth < 32)
SELECT DISTINCT n.nspname::text, c.relname::text FROM v
JOIN pg_class c ON c.oid = v.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE v.depth > 0`

// ViewBases returns every relation the view rel reads, directly or through other views. Errors wrap
// ErrCatalogUnavailable.
func (c *DevCatalog) ViewBases(ctx context.Context, rel Relation) ([]Relation, error) {
	pool, err := c.pool(rel.Database)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCatalogUnavailable, err)
	}
	qctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	c.queries.Add(1)
	rows, err := pool.Query(qctx, viewBasesQuery, rel.Schema, rel.Identifier)
	if err != nil {
		return nil, fmt.Errorf("%w: base relations of view %s: %w", ErrCatalogUnavailable, rel, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Relation, error) {
		b := Relation{Database: rel.Database}
		err := r.Scan(&b.Schema, &b.Identifier)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: base relations of view %s: %w", ErrCatalogUnavailable, rel, err)
	}
	return out, nil
}
