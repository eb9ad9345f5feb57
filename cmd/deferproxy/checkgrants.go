package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/secret"
)

// checkGrantsFound is check-grants' exit status when a login role other than the production roles can write
// production.
const checkGrantsFound = 3

// checkGrantsOptions are the flags of `deferproxy check-grants`.
type checkGrantsOptions struct {
	manifest   string
	schemas    []string
	catalogDSN string
	prodRoles  []string
	readRole   string
}

// newCheckGrantsCmd is `deferproxy check-grants`: what the write guard cannot see, the warehouse must refuse (SPEC §6).
func newCheckGrantsCmd() *cobra.Command {
	var o checkGrantsOptions
	cmd := &cobra.Command{
		Use:   "check-grants",
		Short: "List the login roles that can write production, and the REVOKE/GRANT statements that stop them",
		Long: `check-grants connects with the dev catalog connection (--catalog-dsn, default $DEFERPROXY_CATALOG_DSN) and lists every
login role that can write a production relation or schema in that database: INSERT, UPDATE, DELETE, TRUNCATE,
REFERENCES or TRIGGER on a relation of a production schema (column grants included), UPDATE or USAGE on a sequence,
CREATE on the schema, ownership (directly or through a role it belongs to) and superuser — whether granted directly,
to PUBLIC or to a role it is a member of.

The production schemas are those of the production manifest (--manifest) and any --schema. Roles that are meant to
write production (the production dbt job's role, administrators) are named with --prod-role: they are listed but do
not count.

deferproxy's write guard refuses the writes it can see in a dev session's SQL; it cannot see a function or procedure
created earlier, triggers, event triggers, or a connection that does not go through the proxy (docs/SPEC.md §6).
Only the warehouse's privileges stop those. The output is a SQL script: the findings as comments, then the REVOKE
statements that take the write access away from every other login role and a read-only role (--read-role) to grant
them instead. Review it, then run it as a superuser or the objects' owner.

Exit status: 0 when no login role other than --prod-role can write production; 3 when one can (the script says how
to fix it); 1 when the check could not run; 2 for bad flags.`,
		Example: `  deferproxy check-grants --manifest prod/manifest.json --catalog-dsn postgres://admin@warehouse/analytics --prod-role transformer
  deferproxy check-grants --schema analytics --schema raw --prod-role transformer > fix_grants.sql`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheckGrants(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.manifest, "manifest", "", "production manifest.json (path or file:path): its schemas are production")
	f.StringArrayVar(&o.schemas, "schema", nil, "a production schema (repeatable; added to the manifest's)")
	f.StringVar(&o.catalogDSN, "catalog-dsn", os.Getenv("DEFERPROXY_CATALOG_DSN"), "PostgreSQL URL of the warehouse database (default $DEFERPROXY_CATALOG_DSN)")
	f.StringArrayVar(&o.prodRoles, "prod-role", nil, "a role allowed to write production (repeatable): listed, not counted")
	f.StringVar(&o.readRole, "read-role", "deferproxy_read", "name of the read-only role the script creates for dev logins")
	return cmd
}

func runCheckGrants(cmd *cobra.Command, o checkGrantsOptions) error {
	if o.catalogDSN == "" {
		return usageError{errors.New("--catalog-dsn is required (or set DEFERPROXY_CATALOG_DSN): the warehouse database to check")}
	}
	if err := validatePostgresURL(o.catalogDSN); err != nil {
		return usageError{fmt.Errorf("--catalog-dsn: %v", err)}
	}
	schemas := slices.Clone(o.schemas)
	if o.manifest != "" {
		m, err := catalog.LoadManifestFile(strings.TrimPrefix(o.manifest, "file:"))
		if err != nil {
			return err
		}
		for _, s := range m.ProdSchemas() {
			schemas = append(schemas, s.Schema)
		}
	}
	sort.Strings(schemas)
	schemas = slices.Compact(schemas)
	if len(schemas) == 0 {
		return usageError{errors.New("no production schema: give --manifest or --schema")}
	}
	grants, err := catalog.ProductionWriters(cmd.Context(), o.catalogDSN, schemas)
	if err != nil {
		return fmt.Errorf("check-grants on %s: %w", secret.DSN(o.catalogDSN), err)
	}
	found := writeGrantScript(cmd.OutOrStdout(), schemas, grants, o.prodRoles, o.readRole)
	if found > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "deferproxy check-grants: %d login role(s) besides --prod-role can write production; the script on stdout revokes it\n", found)
		return exitStatus(checkGrantsFound)
	}
	return nil
}

// writeGrantScript prints the findings (as SQL comments) and the statements that make the warehouse refuse dev
// writes into production. It returns how many login roles other than prodRoles can write production.
func writeGrantScript(w io.Writer, schemas []string, grants []catalog.WriteGrant, prodRoles []string, readRole string) int {
	byRole := map[string][]catalog.WriteGrant{}
	var roles []string
	for _, g := range grants {
		if _, ok := byRole[g.Role]; !ok {
			roles = append(roles, g.Role)
		}
		byRole[g.Role] = append(byRole[g.Role], g)
	}
	sort.Strings(roles)
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	rel := func(g catalog.WriteGrant) string { return pgx.Identifier{g.Schema, g.Object}.Sanitize() }
	fmt.Fprintf(w, "-- deferproxy check-grants: login roles that can write production schemas %s\n", strings.Join(schemas, ", "))
	var offenders []string
	for _, r := range roles {
		prod := slices.Contains(prodRoles, r)
		tag := ""
		if prod {
			tag = " (--prod-role: allowed)"
		} else {
			offenders = append(offenders, r)
		}
		fmt.Fprintf(w, "-- %s%s\n", r, tag)
		for _, g := range byRole[r] {
			switch g.Kind {
			case "superuser":
				fmt.Fprintf(w, "--   superuser: every privilege\n")
			case "schema":
				fmt.Fprintf(w, "--   %s on schema %s (%s)\n", g.Privilege, g.Schema, g.Via)
			default:
				fmt.Fprintf(w, "--   %s on %s %s.%s (%s)\n", g.Privilege, g.Kind, g.Schema, g.Object, g.Via)
			}
		}
	}
	if len(offenders) == 0 {
		fmt.Fprintf(w, "-- No login role other than the production roles can write production.\n")
		return 0
	}
	var stmts []string
	add := func(s string) {
		if !slices.Contains(stmts, s) {
			stmts = append(stmts, s)
		}
	}
	for _, r := range offenders {
		for _, g := range byRole[r] {
			from := id(r)
			if g.Via == "public" {
				from = "PUBLIC"
			}
			switch {
			case g.Kind == "superuser":
				add(fmt.Sprintf("ALTER ROLE %s NOSUPERUSER;", id(r)))
			case strings.HasPrefix(g.Via, "owner "):
				owner := strings.TrimPrefix(g.Via, "owner ")
				if owner != r && owner != id(r) {
					add(fmt.Sprintf("REVOKE %s FROM %s; -- %s owns production objects", owner, id(r), owner))
					continue
				}
				to := "<production role>"
				if len(prodRoles) > 0 {
					to = id(prodRoles[0])
				}
				what := "TABLE"
				if g.Kind == "schema" {
					what = "SCHEMA"
				}
				obj := rel(g)
				if g.Kind == "schema" {
					obj = id(g.Schema)
				}
				add(fmt.Sprintf("ALTER %s %s OWNER TO %s;", what, obj, to))
			case strings.HasPrefix(g.Via, "member "):
				for _, grp := range strings.Split(strings.TrimPrefix(g.Via, "member "), ",") {
					add(fmt.Sprintf("REVOKE %s FROM %s; -- %s holds write privileges on production", grp, id(r), grp))
				}
			case g.Kind == "schema":
				add(fmt.Sprintf("REVOKE CREATE ON SCHEMA %s FROM %s;", id(g.Schema), from))
			case g.Kind == "sequence":
				add(fmt.Sprintf("REVOKE UPDATE, USAGE ON ALL SEQUENCES IN SCHEMA %s FROM %s;", id(g.Schema), from))
			default: // direct, public or column grants on tables: a table-level REVOKE also revokes column privileges
				add(fmt.Sprintf("REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA %s FROM %s;", id(g.Schema), from))
			}
		}
	}
	fmt.Fprintf(w, "\n-- 1. Take write access to production away from: %s\n", strings.Join(offenders, ", "))
	for _, s := range stmts {
		fmt.Fprintln(w, s)
	}
	fmt.Fprintf(w, "\n-- 2. A read-only role for dev sessions: what deferproxy's deferred reads need, nothing more.\n")
	fmt.Fprintf(w, "DO $$ BEGIN CREATE ROLE %s NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;\n", id(readRole))
	for _, s := range schemas {
		fmt.Fprintf(w, "GRANT USAGE ON SCHEMA %s TO %s;\n", id(s), id(readRole))
		fmt.Fprintf(w, "GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s;\n", id(s), id(readRole))
		for _, p := range prodRoles {
			fmt.Fprintf(w, "ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s GRANT SELECT ON TABLES TO %s;\n", id(p), id(s), id(readRole))
		}
	}
	for _, r := range offenders {
		fmt.Fprintf(w, "GRANT %s TO %s;\n", id(readRole), id(r))
	}
	return len(offenders)
}
