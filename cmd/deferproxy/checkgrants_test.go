package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// TestCheckGrants builds a warehouse whose production schema every kind of dev login can write (a direct grant, a
// column grant, a group role, CREATE on the schema, ownership, superuser, a grant to PUBLIC), checks that
// check-grants names each of them and exits 3, runs the script it prints, and checks that the dev logins now really
// cannot write production (PostgreSQL refuses) but can read it, and that check-grants then exits 0.
func TestCheckGrants(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := pgtest.Shared(t)
	db := c.NewDatabase(t)
	sfx := strings.ToLower(strings.NewReplacer("-", "_").Replace(db)) // roles are cluster-wide: one set per test database
	role := func(r string) string { return "cg_" + r + "_" + sfx }
	prod, direct, column, group, writers, create, owner, super, reader, readRole :=
		role("prod"), role("direct"), role("column"), role("group"), role("writers"), role("create"), role("owner"),
		role("super"), role("reader"), role("read")
	all := []string{direct, column, group, writers, create, owner, super, reader, readRole, prod}
	t.Cleanup(func() {
		for _, r := range all {
			c.Exec(t, db, "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '"+r+"') THEN "+
				"REASSIGN OWNED BY "+r+" TO postgres; DROP OWNED BY "+r+"; DROP ROLE "+r+"; END IF; END $$")
		}
	})
	c.Exec(t, db, `
CREATE ROLE `+prod+` LOGIN; CREATE ROLE `+direct+` LOGIN; CREATE ROLE `+column+` LOGIN; CREATE ROLE `+group+` LOGIN;
CREATE ROLE `+writers+` NOLOGIN; CREATE ROLE `+create+` LOGIN; CREATE ROLE `+owner+` LOGIN;
CREATE ROLE `+super+` LOGIN SUPERUSER; CREATE ROLE `+reader+` LOGIN;
CREATE SCHEMA analytics AUTHORIZATION `+prod+`;
CREATE TABLE analytics.orders (id int PRIMARY KEY, src text); ALTER TABLE analytics.orders OWNER TO `+prod+`;
INSERT INTO analytics.orders VALUES (1, 'prod');
CREATE TABLE analytics.pub (id int); ALTER TABLE analytics.pub OWNER TO `+prod+`;
CREATE TABLE analytics.owned (id int); ALTER TABLE analytics.owned OWNER TO `+owner+`;
CREATE SEQUENCE analytics.seq; ALTER SEQUENCE analytics.seq OWNER TO `+prod+`;
GRANT USAGE ON SCHEMA analytics TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO `+reader+`;
GRANT INSERT ON analytics.orders TO `+direct+`;
GRANT UPDATE (src) ON analytics.orders TO `+column+`;
GRANT DELETE ON ALL TABLES IN SCHEMA analytics TO `+writers+`; GRANT `+writers+` TO `+group+`;
GRANT CREATE ON SCHEMA analytics TO `+create+`;
GRANT TRUNCATE ON analytics.pub TO PUBLIC;
GRANT UPDATE ON SEQUENCE analytics.seq TO `+direct+`;
`)
	url := c.URL(pgtest.SuperUser, "", db)
	args := []string{"check-grants", "--schema", "analytics", "--catalog-dsn", url, "--prod-role", prod,
		"--prod-role", pgtest.SuperUser, "--read-role", readRole}
	out, errOut, err := run(t, ctx, args...)
	var st exitStatus
	if !errors.As(err, &st) || int(st) != checkGrantsFound {
		t.Fatalf("check-grants: want exit status %d, got %v\n%s\n%s", checkGrantsFound, err, out, errOut)
	}
	for _, want := range []string{
		"-- " + direct + "\n--   UPDATE on sequence analytics.seq (direct)\n--   INSERT on table analytics.orders (direct)",
		"-- " + column + "\n--   UPDATE on table analytics.orders (column)\n--   TRUNCATE on table analytics.pub (public)\n",
		"DELETE on table analytics.orders (member " + writers + ")",
		"CREATE on schema analytics (direct)",
		"OWNER on table analytics.owned (owner " + owner + ")",
		"-- " + super + "\n--   superuser",
		"-- " + prod + " (--prod-role: allowed)",
		"ALTER ROLE " + `"` + super + `"` + " NOSUPERUSER;",
		"REVOKE " + writers + " FROM " + `"` + group + `"`,
		"ON ALL TABLES IN SCHEMA " + `"analytics"` + " FROM PUBLIC;",
		"REVOKE CREATE ON SCHEMA " + `"analytics"` + " FROM " + `"` + create + `"`,
		`ALTER TABLE "analytics"."owned" OWNER TO "` + prod + `"`,
		"GRANT " + `"` + readRole + `"` + " TO " + `"` + direct + `"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check-grants output lacks %q:\n%s", want, out)
		}
	}
	// A role that can only read is listed for nothing but what PUBLIC may do.
	if !strings.Contains(out, "-- "+reader+"\n--   TRUNCATE on table analytics.pub (public)\n-- ") {
		t.Errorf("the read-only role is listed for more than PUBLIC's grant:\n%s", out)
	}

	// Before: the dev logins really can write production.
	write := func(r, sql string) error {
		conn, err := pgx.Connect(ctx, c.URL(r, "", db))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	attempts := []struct{ role, sql string }{
		{direct, "INSERT INTO analytics.orders VALUES (2, 'dev')"},
		{column, "UPDATE analytics.orders SET src = 'dev'"},
		{group, "DELETE FROM analytics.pub"},
		{create, "CREATE TABLE analytics.dev_made (a int)"},
		{owner, "DROP TABLE analytics.owned"},
	}
	for _, a := range attempts {
		if err := write(a.role, a.sql); err != nil {
			t.Fatalf("setup: %s cannot %s: %v", a.role, a.sql, err)
		}
	}
	c.Exec(t, db, "DROP TABLE analytics.dev_made; CREATE TABLE analytics.owned (id int); ALTER TABLE analytics.owned OWNER TO "+owner)

	// Run the script, as a team would.
	c.Exec(t, db, out)
	out2, errOut2, err := run(t, ctx, args...)
	if err != nil || !strings.Contains(out2, "No login role other than the production roles can write production") {
		t.Fatalf("check-grants after the script: %v\n%s\n%s", err, out2, errOut2)
	}
	for _, a := range append(attempts, struct{ role, sql string }{super, "DELETE FROM analytics.orders"},
		struct{ role, sql string }{reader, "TRUNCATE analytics.pub"}) {
		var pe *pgconn.PgError
		if err := write(a.role, a.sql); !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("after the script, %s: %s: want 42501 from PostgreSQL, got %v", a.role, a.sql, err)
		}
	}
	for _, r := range []string{direct, group, super, reader} {
		if err := write(r, "SELECT count(*) FROM analytics.orders"); err != nil {
			t.Errorf("after the script, %s cannot read production: %v", r, err)
		}
	}
}

// TestCheckGrantsUsage: bad flags are usage errors (exit 2) that say what to do.
func TestCheckGrantsUsage(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DEFERPROXY_CATALOG_DSN", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check-grants", "--schema", "analytics"}, "--catalog-dsn is required"},
		{[]string{"check-grants", "--catalog-dsn", "postgres://u@h/db"}, "no production schema"},
		{[]string{"check-grants", "--schema", "a", "--catalog-dsn", "mysql://u:secretpw@h/db"}, "--catalog-dsn"},
	} {
		_, _, err := run(t, ctx, tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%v: want a usage error with %q (no password), got %v", tc.args, tc.want, err)
		}
	}
}
