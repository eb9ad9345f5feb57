package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// relSnapshot is every relation in the dev schemas (dbt_dev and dbt_dev_*): "schema.name" -> kind and its rows as
// text, ordered, so two runs compare row for row.
type relSnapshot map[string]string

// snapshotDev reads all dev relations of database db.
func snapshotDev(t testing.TB, url string) relSnapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect for snapshot: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `select n.nspname, c.relname, c.relkind::text
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where (n.nspname = $1 or n.nspname like $2) and c.relkind in ('r','v','m','p')
		order by 1, 2`, devSchema, devSchema+`\_%`)
	if err != nil {
		t.Fatalf("list dev relations: %v", err)
	}
	type rel struct{ schema, name, kind string }
	var rels []rel
	for rows.Next() {
		var r rel
		if err := rows.Scan(&r.schema, &r.name, &r.kind); err != nil {
			t.Fatalf("list dev relations: %v", err)
		}
		rels = append(rels, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list dev relations: %v", err)
	}
	snap := relSnapshot{}
	for _, r := range rels {
		kind := map[string]string{"r": "table", "v": "view", "m": "materialized view", "p": "table"}[r.kind]
		q, err := rowsQuery(ctx, conn, r.schema, r.name)
		if err != nil {
			t.Fatalf("columns of %s.%s: %v", r.schema, r.name, err)
		}
		var lines []string
		rs, err := conn.Query(ctx, q)
		if err != nil {
			// A view over a relation that no longer exists, for example: record the error, it must match too.
			snap[r.schema+"."+r.name] = kind + " ERROR " + err.Error()
			continue
		}
		for rs.Next() {
			var s *string
			if err := rs.Scan(&s); err != nil {
				t.Fatalf("read %s.%s: %v", r.schema, r.name, err)
			}
			if s == nil {
				lines = append(lines, "NULL")
			} else {
				lines = append(lines, *s)
			}
		}
		if err := rs.Err(); err != nil {
			snap[r.schema+"."+r.name] = kind + " ERROR " + err.Error()
			continue
		}
		snap[r.schema+"."+r.name] = fmt.Sprintf("%s %d rows\n      %s", kind, len(lines), strings.Join(lines, "\n      "))
	}
	return snap
}

// snapshotMeta are the columns dbt snapshots fill from the clock (and a hash over it): two runs differ there by
// construction, so the comparison keeps only whether a row is current.
var snapshotMeta = map[string]bool{"dbt_scd_id": true, "dbt_updated_at": true, "dbt_valid_from": true, "dbt_valid_to": true}

// rowsQuery is the ordered "rows as text" query of a relation; for a snapshot table the clock columns are replaced
// by dbt_valid_to is null.
func rowsQuery(ctx context.Context, conn *pgx.Conn, schema, name string) (string, error) {
	rows, err := conn.Query(ctx, `select attname from pg_attribute
		where attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass and attnum > 0 and not attisdropped
		order by attnum`, schema, name)
	if err != nil {
		return "", err
	}
	var cols []string
	snapshot := false
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", err
		}
		if snapshotMeta[c] {
			snapshot = true
			continue
		}
		cols = append(cols, "t."+qident(c))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if !snapshot {
		return fmt.Sprintf(`select t::text from %s.%s as t order by 1`, qident(schema), qident(name)), nil
	}
	cols = append(cols, "t.dbt_valid_to is null")
	return fmt.Sprintf(`select row(%s)::text from %s.%s as t order by 1`, strings.Join(cols, ", "), qident(schema),
		qident(name)), nil
}

// resetDev drops every dev schema of the database and creates an empty dbt_dev, directly (not through the proxy).
func resetDev(t testing.TB, url string) {
	t.Helper()
	execSQL(t, url, fmt.Sprintf(`do $$ declare s text; begin
		for s in select nspname from pg_namespace where nspname = '%s' or nspname like '%s\_%%' loop
			execute format('drop schema %%I cascade', s);
		end loop; end $$; create schema %s`, devSchema, devSchema, devSchema))
}

// execSQL runs statements (simple protocol, several allowed) directly against PostgreSQL.
func execSQL(t testing.TB, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// queryStrings runs a query and returns its first column as text, one string per row.
func queryStrings(ctx context.Context, conn *pgx.Conn, sql string) ([]string, error) {
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var s *string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if s == nil {
			out = append(out, "NULL")
		} else {
			out = append(out, *s)
		}
	}
	return out, rows.Err()
}
