package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The write guard judges statement text; what it cannot see (a function called later, a trigger, a connection that
// bypasses the proxy) only the warehouse's own privileges can stop (SPEC §6). ProductionWriters reads those
// privileges for `deferproxy check-grants`.

// WriteGrant is one way a login role can write production.
type WriteGrant struct {
	Role string // the login role
	// Kind is "table" (any relation but a sequence), "sequence", "schema" or "superuser".
	Kind   string
	Schema string // the production schema ("" for superuser)
	Object string // the relation or schema name ("" for superuser)
	// Privilege is INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES or TRIGGER (tables, column grants included), UPDATE or
	// USAGE (sequences), CREATE (schemas), OWNER (the role owns it, or is a member of its owner) or SUPERUSER.
	Privilege string
	// Via says where the right comes from: "owner <role>", "direct", "public", "member <role>[,<role>…]" (a role it
	// belongs to holds the grant), "column" (a column privilege) or "superuser".
	Via string
}

// writersSQL lists, for every login role, each write privilege it holds on the relations and schemas of $1 (the
// production schemas), and the superusers (who hold them all). has_*_privilege and pg_has_role follow role
// membership the way PostgreSQL's own checks do; ownership is taken through any membership (SET ROLE reaches it).
const writersSQL = `
WITH prod AS (
	SELECT oid, nspname, nspowner, coalesce(nspacl, acldefault('n'::"char", nspowner)) AS acl
	FROM pg_namespace WHERE nspname = ANY($1::text[])),
logins AS (SELECT oid, rolname, rolsuper FROM pg_roles WHERE rolcanlogin),
objs AS (
	SELECT c.oid, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS kind, n.nspname, c.relname::text AS name,
		c.relowner AS owner, coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)) AS acl
	FROM pg_class c JOIN prod n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
	UNION ALL
	SELECT oid, 'schema', nspname, nspname::text, nspowner, acl FROM prod),
privs AS (
	SELECT o.*, p.priv FROM objs o, LATERAL unnest(CASE o.kind
		WHEN 'table' THEN ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']
		WHEN 'sequence' THEN ARRAY['UPDATE', 'USAGE']
		ELSE ARRAY['CREATE'] END) AS p(priv)),
held AS (
	SELECT l.rolname, l.oid AS roid, p.* FROM logins l CROSS JOIN privs p
	WHERE NOT l.rolsuper AND CASE
		WHEN p.kind = 'table' AND p.priv IN ('INSERT', 'UPDATE', 'REFERENCES') THEN has_any_column_privilege(l.oid, p.oid, p.priv)
		WHEN p.kind = 'table' THEN has_table_privilege(l.oid, p.oid, p.priv)
		WHEN p.kind = 'sequence' THEN has_sequence_privilege(l.oid, p.oid, p.priv)
		ELSE has_schema_privilege(l.oid, p.oid, p.priv) END)
SELECT h.rolname::text, h.kind, h.nspname::text, h.name,
	CASE WHEN pg_has_role(h.roid, h.owner, 'MEMBER') THEN 'OWNER' ELSE h.priv END,
	CASE
		WHEN pg_has_role(h.roid, h.owner, 'MEMBER') THEN 'owner ' || h.owner::regrole::text
		WHEN EXISTS (SELECT 1 FROM aclexplode(h.acl) a WHERE a.grantee = h.roid AND a.privilege_type = h.priv) THEN 'direct'
		WHEN EXISTS (SELECT 1 FROM aclexplode(h.acl) a WHERE a.grantee = 0 AND a.privilege_type = h.priv) THEN 'public'
		ELSE coalesce((SELECT 'member ' || string_agg(DISTINCT a.grantee::regrole::text, ',')
			FROM aclexplode(h.acl) a
			WHERE a.privilege_type = h.priv AND a.grantee <> 0 AND a.grantee <> h.roid AND pg_has_role(h.roid, a.grantee, 'MEMBER')),
			'column') END
FROM held h
UNION
SELECT rolname::text, 'superuser', '', '', 'SUPERUSER', 'superuser' FROM logins WHERE rolsuper
ORDER BY 1, 2, 3, 4, 5`

// ProductionWriters connects to dsn (the dev catalog connection) and returns every way a login role can write the
// relations and schemas of the given production schemas in that database.
func ProductionWriters(ctx context.Context, dsn string, schemas []string) ([]WriteGrant, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, writersSQL, schemas)
	if err != nil {
		return nil, fmt.Errorf("read privileges: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WriteGrant, error) {
		var g WriteGrant
		err := r.Scan(&g.Role, &g.Kind, &g.Schema, &g.Object, &g.Privilege, &g.Via)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("read privileges: %w", err)
	}
	return out, nil
}
