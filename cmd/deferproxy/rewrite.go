package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/secret"
)

// rewriteOptions are the flags of `deferproxy rewrite`.
type rewriteOptions struct {
	manifest, devManifest  string
	devSchema, devDatabase string
	schemaMap              []string
	exists                 string
	catalogDSN             string
	mode                   string
	explain                string
	user                   string
	searchPath             string
	allowProdWrites        bool
}

// newRewriteCmd is `deferproxy rewrite`: explain offline what the proxy would do with a statement (SPEC §4–§6).
func newRewriteCmd() *cobra.Command {
	var o rewriteOptions
	cmd := &cobra.Command{
		Use:   "rewrite [FILE|-]",
		Short: "Show how deferproxy would rewrite a SQL statement, and why",
		Long: `rewrite reads SQL (from FILE, or stdin when FILE is "-" or absent), decides every relation reference the way a
proxy session would, prints the rewritten SQL on stdout and, on stderr, each reference with its role (read or write)
and the reason it was or was not deferred. With --explain json the whole report is one JSON document on stdout.

Dev existence comes from --exists (a comma-separated list of dev relations that exist, schema.name or db.schema.name;
none exist by default) or from a live dev catalog (--catalog-dsn). A statement the production write guard refuses
prints the error and exits with status 1.`,
		Example: `  deferproxy rewrite --manifest prod/manifest.json --dev-schema dbt_fabio model.sql
  echo 'select * from dbt_fabio.orders' | deferproxy rewrite --manifest prod/manifest.json --dev-schema dbt_fabio --exists dbt_fabio.customers
  deferproxy rewrite --manifest prod/manifest.json --dev-schema dbt_fabio --mode favor_state --explain json query.sql`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRewrite(cmd.Context(), cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.manifest, "manifest", "", "production manifest.json (path or file:path) (required)")
	f.StringVar(&o.devManifest, "dev-manifest", "", "the developer's target/manifest.json (optional; most precise mapping)")
	f.StringVar(&o.devSchema, "dev-schema", "", "dev target schema, or a template over --user such as dbt_{user}")
	f.StringVar(&o.devDatabase, "dev-database", "", "dev target database (default: the database of the production relations)")
	f.StringArrayVar(&o.schemaMap, "schema-map", nil, "dev=prod schema pair (repeatable)")
	f.StringVar(&o.exists, "exists", "", "comma-separated dev relations that exist (schema.name or db.schema.name)")
	f.StringVar(&o.catalogDSN, "catalog-dsn", "", "read dev existence from this PostgreSQL instead of --exists")
	f.StringVar(&o.mode, "mode", "defer", "defer, favor_state or off")
	f.StringVar(&o.explain, "explain", "text", "report format: text (on stderr) or json (on stdout, instead of the SQL)")
	f.StringVar(&o.user, "user", os.Getenv("USER"), "login user, for a --dev-schema template and $user in the search_path")
	f.StringVar(&o.searchPath, "search-path", `"$user", public`, "search_path for unqualified names")
	f.BoolVar(&o.allowProdWrites, "allow-prod-writes", false, "turn the production write guard off")
	return cmd
}

func runRewrite(ctx context.Context, cmd *cobra.Command, o rewriteOptions, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.manifest == "" {
		return usageError{errors.New("--manifest is required (the production manifest.json)")}
	}
	if o.devSchema == "" && o.devManifest == "" && len(o.schemaMap) == 0 {
		return usageError{errors.New("--dev-schema is required (or --dev-manifest / --schema-map)")}
	}
	if o.explain != "text" && o.explain != "json" {
		return usageError{fmt.Errorf("--explain %q: use text or json", o.explain)}
	}
	if o.exists != "" && o.catalogDSN != "" {
		return usageError{errors.New("use either --exists or --catalog-dsn, not both")}
	}
	prod, err := catalog.LoadManifestFile(strings.TrimPrefix(o.manifest, "file:"))
	if err != nil {
		return err
	}
	var dev *catalog.Manifest
	if o.devManifest != "" {
		if dev, err = catalog.LoadManifestFile(strings.TrimPrefix(o.devManifest, "file:")); err != nil {
			return err
		}
	}
	schemaMap := map[string]string{}
	for _, kv := range o.schemaMap {
		d, p, ok := strings.Cut(kv, "=")
		if !ok || d == "" || p == "" {
			return usageError{fmt.Errorf("--schema-map %q: write dev_schema=prod_schema", kv)}
		}
		schemaMap[d] = p
	}
	sql, err := readSQL(cmd.InOrStdin(), args)
	if err != nil {
		return err
	}
	cfg := deferral.ExplainConfig{
		Manifest: prod, DevManifest: dev, DevSchema: o.devSchema, DevDatabase: o.devDatabase, SchemaMap: schemaMap,
		User: o.user, Mode: o.mode, AllowProdWrites: o.allowProdWrites,
		SearchPath: deferral.ParseSearchPath(o.searchPath),
	}
	switch {
	case o.catalogDSN != "":
		// One-shot: no DDL-notification listener (it only pays off in a long-running proxy).
		dc, err := catalog.NewDevCatalog(catalog.DevCatalogConfig{DSN: o.catalogDSN, NoNotify: true})
		if err != nil {
			return fmt.Errorf("dev catalog %s: %w", secret.DSN(o.catalogDSN), err)
		}
		defer dc.Close()
		cfg.Exists = dc
	default:
		db := o.devDatabase
		rels, err := parseExists(o.exists, db, prod)
		if err != nil {
			return usageError{err}
		}
		cfg.Exists = catalog.NewStaticCatalog(rels...)
	}
	x, err := deferral.Explain(ctx, cfg, sql)
	if err != nil {
		return err
	}
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.explain == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(x); err != nil {
			return err
		}
	} else {
		if x.Refused == "" {
			io.WriteString(out, x.SQL)
			if !strings.HasSuffix(x.SQL, "\n") {
				io.WriteString(out, "\n")
			}
		}
		printExplanation(errw, x)
	}
	if x.Refused != "" {
		return fmt.Errorf("refused by the production write guard: %s", x.Refused)
	}
	return nil
}

// readSQL reads FILE, or stdin for "-" or no argument.
func readSQL(stdin io.Reader, args []string) (string, error) {
	if len(args) == 0 || args[0] == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("read SQL from stdin: %w", err)
		}
		return string(b), nil
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return "", fmt.Errorf("read SQL: %w", err)
	}
	return string(b), nil
}

// parseExists turns "a.b,c.d.e" into relations; a 2-part name is in db (default: the production database).
func parseExists(list, db string, prod *catalog.Manifest) ([]catalog.Relation, error) {
	var out []catalog.Relation
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := deferral.ParseSearchPath(strings.ReplaceAll(item, ".", ","))
		switch len(parts) {
		case 2:
			d := db
			if d == "" {
				d = deferral.MainDatabase(prod)
			}
			out = append(out, catalog.Relation{Database: d, Schema: parts[0], Identifier: parts[1]})
		case 3:
			out = append(out, catalog.Relation{Database: parts[0], Schema: parts[1], Identifier: parts[2]})
		default:
			return nil, fmt.Errorf("--exists %q: write schema.name or database.schema.name", item)
		}
	}
	return out, nil
}

func printExplanation(w io.Writer, x *deferral.Explanation) {
	fmt.Fprintf(w, "-- mode %s, dev target %s, mapping %s\n", x.Mode, x.DevTarget, x.Mapping)
	if x.Comment != nil && x.Comment.NodeID != "" {
		fmt.Fprintf(w, "-- executing node %s (from the dbt query comment)\n", x.Comment.NodeID)
	}
	if !x.Parsed {
		fmt.Fprintf(w, "-- did not parse: %s\n", x.ParseError)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STMT\tREFERENCE\tROLE\tACTION\tTO\tREASON")
	for _, r := range x.References {
		to := r.To
		if to == "" {
			to = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Statement, r.Name, r.Role, r.Action, to, r.Reason)
	}
	tw.Flush()
	for _, l := range x.Literals {
		fmt.Fprintf(w, "introspection literal (statement %d): %s → %s\n", l.Statement, l.From, l.To)
	}
	for _, n := range x.Notices {
		fmt.Fprintln(w, n)
	}
}
