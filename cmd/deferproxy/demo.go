package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"github.com/deferproxy/deferproxy/internal/pgcluster"
)

// demoData is the bundled example (see demodata/): the production schema "analytics" of dbt's jaffle_shop with its
// data, the production manifest.json dbt wrote when it built that schema, and a dev schema "dbt_demo" holding one
// changed model.
//
//go:embed demodata/prod.sql demodata/dev.sql demodata/manifest.json
var demoData embed.FS

// Names in the bundled example; the manifest's relation names say "jaffle"."analytics".<model>.
const (
	demoDatabase  = "jaffle"
	demoDevSchema = "dbt_demo"
	demoUser      = pgcluster.SuperUser
)

type demoOptions struct {
	listen, admin     string
	listenSet         bool
	exitAfterScript   bool
	logLevel          string
	shutdownTimeout   time.Duration
	out               io.Writer
	logOut            io.Writer
	passThroughReason string // set when the engine could not start
}

func newDemoCmd() *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run deferproxy on a bundled example: a throwaway PostgreSQL, a production schema and its manifest",
		Long: `demo starts a throwaway PostgreSQL (initdb/pg_ctl from /usr/lib/postgresql/*/bin, in a temporary directory),
loads the bundled example — the production schema "analytics" of dbt's jaffle_shop with its manifest.json, and a dev
schema "dbt_demo" where only stg_customers was built (and changed) — starts deferproxy in front of it, runs a few
statements through it that show deferral, the favor_state switch and the production write guard, then keeps serving
so you can connect psql or dbt, until Ctrl-C. No dbt is needed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.listenSet = cmd.Flags().Changed("listen")
			o.out, o.logOut = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runDemo(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:6432", "proxy address (when the default is taken, a free port is used)")
	f.StringVar(&o.admin, "admin", "127.0.0.1:6480", `admin HTTP address ("" disables; when the default is taken, a free port is used)`)
	f.BoolVar(&o.exitAfterScript, "exit-after-script", false, "stop after the example statements instead of serving until Ctrl-C")
	f.StringVar(&o.logLevel, "log-level", "warn", "log level of the proxy: debug, info, warn or error")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 5*time.Second, "on Ctrl-C, how long open sessions may finish")
	return cmd
}

func runDemo(ctx context.Context, o demoOptions) error {
	out := o.out
	say := func(format string, args ...any) { fmt.Fprintf(out, format, args...) }
	log, err := newLogger(o.logOut, "text", o.logLevel)
	if err != nil {
		return usageError{err}
	}

	say("Starting a throwaway PostgreSQL … ")
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{})
	if err != nil {
		say("failed\n")
		if errors.Is(err, pgcluster.ErrNoPostgres) {
			return fmt.Errorf("%w (or run `make demo`, which installs it when run as root)", err)
		}
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			log.Warn("stop demo PostgreSQL", "err", err)
		}
	}()
	say("PostgreSQL %d on %s (data in %s)\n", cluster.Major, cluster.Addr(), cluster.DataDir)

	manifestPath, cleanup, err := loadDemo(ctx, cluster)
	if err != nil {
		return err
	}
	defer cleanup()
	say("Loaded production schema %q (jaffle_shop, built by dbt) and dev schema %q into database %q\n", "analytics", demoDevSchema, demoDatabase)

	cfg := demoConfig(cluster, manifestPath, o)
	inst, err := startDemoProxy(ctx, cfg, &o, log, say)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = inst.shutdown(o.shutdownTimeout)
		}
	}()

	proxyURL := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", demoUser, inst.proxyAddr(), demoDatabase)
	if inst.engine == nil {
		say("NOTE: the defer engine is not running (%s); the proxy is a transparent pass-through, so the\n"+
			"statements below read exactly what they name.\n\n", o.passThroughReason)
	}
	if err := runDemoScript(ctx, proxyURL, out); err != nil {
		return fmt.Errorf("demo script: %w", err)
	}
	if a := inst.adminAddr(); a != "" {
		say("\nWhat `deferproxy status --admin %s` says now:\n\n", a)
		if err := showStatus(ctx, adminClient{addr: a}, out); err != nil {
			say("  (status unavailable: %v)\n", err)
		}
	}
	if o.exitAfterScript {
		say("\nThe demo proxy stops here (--exit-after-script); run `deferproxy demo` without it to connect psql or dbt.\n")
	} else {
		printDemoConnect(out, cluster, inst, proxyURL, cfg)
	}

	if !o.exitAfterScript {
		say("\nServing until Ctrl-C …\n")
		select {
		case <-ctx.Done():
		case err := <-inst.errc:
			say("listener failed: %v\n", err)
		}
		say("\nStopping …\n")
	}
	stopped = true
	return inst.shutdown(o.shutdownTimeout)
}

// loadDemo creates the demo database, loads the production and dev schemas and writes the manifest to a temporary
// file (the engine watches a path).
func loadDemo(ctx context.Context, cluster *pgcluster.Cluster) (string, func(), error) {
	conn, err := pgconn.Connect(ctx, cluster.URL(demoUser, "", "postgres"))
	if err != nil {
		return "", nil, fmt.Errorf("connect to the demo PostgreSQL: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+demoDatabase).ReadAll(); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database %s: %w", demoDatabase, err)
	}
	conn.Close(ctx)

	conn, err = pgconn.Connect(ctx, cluster.URL(demoUser, "", demoDatabase))
	if err != nil {
		return "", nil, fmt.Errorf("connect to database %s: %w", demoDatabase, err)
	}
	defer conn.Close(ctx)
	for _, f := range []string{"demodata/prod.sql", "demodata/dev.sql"} {
		sql, err := demoData.ReadFile(f)
		if err != nil {
			return "", nil, err
		}
		// Simple protocol: each file is one multi-statement Query.
		if _, err := conn.Exec(ctx, string(sql)).ReadAll(); err != nil {
			return "", nil, fmt.Errorf("load %s: %w", f, err)
		}
	}

	dir, err := os.MkdirTemp("", "deferproxy-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("create temp dir: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	m, err := demoData.ReadFile("demodata/manifest.json")
	if err != nil {
		cleanup()
		return "", nil, err
	}
	path := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(path, m, 0o644); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("write demo manifest: %w", err)
	}
	return path, cleanup, nil
}

// demoConfig is the configuration `deferproxy serve` would get from the flags printed at the end of the demo.
func demoConfig(cluster *pgcluster.Cluster, manifest string, o demoOptions) Config {
	return Config{
		Listen:             o.listen,
		Upstream:           fmt.Sprintf("postgres://%s/%s?sslmode=disable", cluster.Addr(), demoDatabase),
		Admin:              o.admin,
		LogFormat:          "text",
		LogLevel:           o.logLevel,
		MaxMessageSize:     1 << 30,
		MaxClientConns:     1000,
		MaxUnauthenticated: 100,
		HandshakeTimeout:   30 * time.Second,
		ShutdownTimeout:    o.shutdownTimeout,
		Manifest:           manifest,
		DevSchema:          demoDevSchema,
		Mode:               "defer",
		CatalogDSN:         cluster.URL(demoUser, "", demoDatabase),
		CatalogTimeout:     2 * time.Second,
		CatalogTTL:         10 * time.Second,
		OnCatalogError:     "open",
		Notices:            "all",
		StaleAfter:         100 * 365 * 24 * time.Hour, // the bundled manifest is old by design; do not warn about it
		SelectedWindow:     30 * time.Minute,
	}
}

// startDemoProxy starts the proxy with the engine. A default address that is taken falls back to a free port, and an
// engine that cannot start falls back to pass-through (said loudly), so the demo always shows something.
func startDemoProxy(ctx context.Context, cfg Config, o *demoOptions, log *slog.Logger, say func(string, ...any)) (*instance, error) {
	if !o.listenSet && addrInUse(cfg.Listen) {
		say("%s is taken; the proxy listens on a free port instead\n", cfg.Listen)
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Admin == "127.0.0.1:6480" && addrInUse(cfg.Admin) {
		cfg.Admin = "127.0.0.1:0"
	}
	inst, err := start(ctx, cfg, log)
	if err != nil && cfg.Manifest != "" && strings.Contains(err.Error(), "defer engine") {
		o.passThroughReason = err.Error()
		cfg.Manifest, cfg.DevSchema = "", ""
		inst, err = start(ctx, cfg, log)
	}
	return inst, err
}

// addrInUse reports whether something already listens on addr.
func addrInUse(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Is(err, syscall.EADDRINUSE)
	}
	ln.Close()
	return false
}

// demoStep is one statement of the demo script and what it shows.
type demoStep struct {
	title, sql string
}

var demoScript = []demoStep{
	{"1. Deferral: dbt_demo.orders was never built in dev, so the proxy reads production's analytics.orders",
		"SELECT count(*) AS orders, sum(amount) AS revenue FROM dbt_demo.orders"},
	{"2. No deferral: dbt_demo.stg_customers exists in dev (the developer's changed version, names upper-cased)",
		"SELECT customer_id, first_name, last_name FROM dbt_demo.stg_customers WHERE customer_id = 1"},
	{"3. A join of both: customers (production) with the dev stg_customers",
		"SELECT s.first_name, c.number_of_orders FROM dbt_demo.customers c JOIN dbt_demo.stg_customers s USING (customer_id) WHERE customer_id = 1"},
	{"4. The favor-state switch (dbt --favor-state): prefer production even when dev has the relation",
		"SET deferproxy.mode = 'favor_state'"},
	{"", "SHOW deferproxy.mode"},
	{"", "SELECT customer_id, first_name, last_name FROM dbt_demo.stg_customers WHERE customer_id = 1"},
	{"", "RESET deferproxy.mode"},
	{"5. The production write guard: a dev session may not write into production",
		"DELETE FROM analytics.orders WHERE order_id = 1"},
	{"", "SELECT count(*) AS orders_in_production FROM analytics.orders"},
	{"6. Which production run this session defers to", "SHOW deferproxy.status"},
}

// runDemoScript runs demoScript through the proxy with pgx (extended protocol, like most drivers), printing each
// statement, the NOTICEs the proxy sends, and the rows or error.
func runDemoScript(ctx context.Context, url string, out io.Writer) error {
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cc.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		fmt.Fprintf(out, "   %s: %s\n", n.Severity, n.Message)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cc)
	if err != nil {
		return fmt.Errorf("connect through the proxy: %w", err)
	}
	defer conn.Close(context.Background())

	for _, st := range demoScript {
		if st.title != "" {
			fmt.Fprintf(out, "\n%s\n", st.title)
		}
		fmt.Fprintf(out, "  => %s\n", st.sql)
		rows, err := conn.Query(cctx, st.sql, pgx.QueryExecModeSimpleProtocol)
		if err == nil {
			printRows(out, rows)
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			var pe *pgconn.PgError
			if !errors.As(err, &pe) {
				return err
			}
			fmt.Fprintf(out, "   ERROR %s: %s\n", pe.Code, pe.Message)
			if pe.Detail != "" {
				fmt.Fprintf(out, "   DETAIL: %s\n", pe.Detail)
			}
			if pe.Hint != "" {
				fmt.Fprintf(out, "   HINT: %s\n", pe.Hint)
			}
			continue
		}
		fmt.Fprintf(out, "   (%s)\n", rows.CommandTag())
	}
	return nil
}

// printRows prints a result set as "col=value" lines; the demo's results are a row or two. The simple protocol
// returns text, so the raw values are what psql would show.
func printRows(out io.Writer, rows pgx.Rows) {
	fields := rows.FieldDescriptions()
	for rows.Next() {
		vals := rows.RawValues()
		parts := make([]string, len(vals))
		for i, v := range vals {
			s := "NULL"
			if v != nil {
				s = string(v)
			}
			parts[i] = fields[i].Name + "=" + s
		}
		fmt.Fprintf(out, "   %s\n", strings.Join(parts, "  "))
	}
}

// printDemoConnect tells the user how to use the running demo with psql and dbt.
func printDemoConnect(out io.Writer, cluster *pgcluster.Cluster, inst *instance, proxyURL string, cfg Config) {
	host, port, _ := net.SplitHostPort(inst.proxyAddr())
	fmt.Fprintf(out, `
Try it yourself
  psql:   %s "%s"
          then e.g.  SELECT * FROM dbt_demo.customers LIMIT 3;   SET deferproxy.mode = 'favor_state';
  direct (no proxy), for comparison:  %s "%s"
`, filepath.Join(cluster.BinDir, "psql"), proxyURL, filepath.Join(cluster.BinDir, "psql"), cluster.URL(demoUser, "", demoDatabase))
	if a := inst.adminAddr(); a != "" {
		fmt.Fprintf(out, "  status: http://%s/  (or: deferproxy status --admin %s)\n", a, a)
	}
	if inst.engine != nil {
		fmt.Fprintf(out, "  the same proxy by hand: deferproxy serve --upstream '%s' --manifest %s --dev-schema %s --catalog-dsn '%s'\n",
			cfg.Upstream, cfg.Manifest, cfg.DevSchema, cfg.CatalogDSN)
	}
	fmt.Fprintf(out, `
  dbt (profiles.yml of jaffle_shop; no --defer needed, the proxy defers):
    jaffle_shop:
      target: dev
      outputs:
        dev:
          type: postgres
          host: %s
          port: %s
          user: %s
          password: ""
          dbname: %s
          schema: %s
          threads: 4
`, host, port, demoUser, demoDatabase, demoDevSchema)
}
