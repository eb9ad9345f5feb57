package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/deferproxy/deferproxy/admin"
	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/deferproxy/deferproxy/secret"
	"github.com/deferproxy/deferproxy/snowflake"
	"github.com/deferproxy/deferproxy/tally"
)

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the proxy: listen for PostgreSQL clients and forward them to the upstream, deferring to production",
		Long: `serve listens for PostgreSQL clients on --listen and relays each session to --upstream. With --manifest (the
production manifest.json) and a dev target (--dev-schema, --dev-manifest or --schema-map), reads of dev relations
that do not exist are rewritten to production; without a manifest it is a transparent pass-through.

Every flag is also a key of the YAML file given with --config and an environment variable DEFERPROXY_<KEY>;
flags win over the environment, which wins over the file. See deferproxy.example.yaml.`,
		Example: `  deferproxy serve --upstream postgres://warehouse:5432/analytics --manifest prod/manifest.json --dev-schema 'dbt_{user}'
  DEFERPROXY_UPSTREAM=postgres://localhost:5432/jaffle deferproxy serve --config deferproxy.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, os.LookupEnv)
			if err != nil {
				return usageError{err}
			}
			// Whatever goes wrong from here, its message is scrubbed of the configuration's secrets (a library may
			// echo a connection string).
			secrets := cfg.secrets()
			return secrets.Error(runServe(cmd, cfg, secrets))
		},
	}
	addConfigFlags(cmd.Flags())
	return cmd
}

// runServe is serve's command once its configuration is loaded.
func runServe(cmd *cobra.Command, cfg Config, secrets *secret.Set) error {
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find the current directory: %w", err)
	}
	if err := cfg.findDevManifest(os.LookupEnv, wd); err != nil {
		return usageError{err}
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	log, err := newLogger(cmd.ErrOrStderr(), cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return usageError{err}
	}
	log = slog.New(secrets.Handler(log.Handler()))
	// Parts that log before they are handed a logger (libraries, init paths) use the same handler.
	slog.SetDefault(log)
	for _, k := range unknownEnv(os.Environ()) {
		log.Warn("ignoring unknown environment variable", "name", k, "hint", "the variables are DEFERPROXY_<KEY> for the keys of deferproxy.example.yaml")
	}
	return serve(cmd.Context(), cfg, log)
}

// serve runs the proxy until ctx is done (SIGINT/SIGTERM), then shuts it down gracefully.
func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	inst, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down: no new sessions; open sessions may finish", "timeout", cfg.ShutdownTimeout)
	case err = <-inst.errc:
		log.Error("listener failed; shutting down", "err", err)
	}
	if serr := inst.shutdown(cfg.ShutdownTimeout); serr != nil && err == nil {
		err = serr
	}
	return err
}

// instance is one running proxy with its engine and admin listener: what `serve` runs and the demo embeds.
type instance struct {
	log     *slog.Logger
	proxy   *proxy.Server     // nil: no PostgreSQL upstream configured (Snowflake only)
	sf      *snowflake.Server // nil: no Snowflake upstream configured
	sfLn    net.Listener
	engine  *deferral.Engine // nil: pass-through
	tally   *tally.Tally     // nil: pass-through; what deferproxy exec's tagged sessions did
	admin   *admin.Server    // nil: disabled
	ln      net.Listener
	adminLn net.Listener
	errc    chan error // first error of a listener that stopped on its own
	cancel  context.CancelFunc
	served  int // number of Serve goroutines
	exited  chan struct{}
}

// start builds everything from cfg, binds the listeners (so an address in use is reported before anything else
// runs) and serves in the background. The engine and the listeners live until shutdown, not until ctx is done:
// ctx ending is the signal to shut down, and open sessions must keep their engine while they drain.
func start(ctx context.Context, cfg Config, log *slog.Logger) (*instance, error) {
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	inst := &instance{log: log, errc: make(chan error, 3), cancel: cancel, exited: make(chan struct{}, 3)}
	ok := false
	defer func() {
		if !ok {
			inst.closeAll()
		}
	}()

	var tlsCfg *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, usageError{fmt.Errorf("load TLS certificate %s and key %s: %w (pass PEM files with --tls-cert and --tls-key)", cfg.TLSCert, cfg.TLSKey, err)}
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	var hook proxy.Hook
	engineNote := ""
	if cfg.Manifest != "" {
		catalogDSN := cfg.CatalogDSN
		if catalogDSN == "" {
			// The contract: the dev catalog is read over the upstream with the proxy's configured user. A user
			// (and password, or PGPASSWORD/.pgpass) in the upstream URL is that user.
			catalogDSN = cfg.Upstream
			if u, err := url.Parse(cfg.Upstream); err == nil && cfg.Upstream != "" && u.User == nil && os.Getenv("PGUSER") == "" {
				log.Warn("catalog_dsn is not set and the upstream URL names no user: the dev catalog connects as the OS user",
					"hint", "set catalog_dsn (or a user in the upstream URL) to a role that can read the dev schemas' pg_catalog")
			}
		}
		eng, err := deferral.New(base, deferral.Config{
			Manifest:        cfg.Manifest,
			ManifestOptions: cfg.manifestOptions(),
			DevManifest:     cfg.DevManifest,
			DevSchema:       cfg.DevSchema,
			DevDatabase:     cfg.DevDatabase,
			SchemaMap:       cfg.SchemaMap,
			Mode:            cfg.Mode,
			AllowProdWrites: cfg.AllowProdWrites,
			CatalogDSN:      catalogDSN,
			// The Snowflake listener's sessions list their dev schemas through it (SPEC §11.3).
			SnowflakeCatalogDSN: cfg.SnowflakeCatalogDSN,
			CatalogTimeout:      cfg.CatalogTimeout,
			CatalogTTL:          cfg.CatalogTTL,
			OnCatalogError:      cfg.OnCatalogError,
			Notices:             cfg.Notices,
			StaleAfter:          cfg.StaleAfter,
			SelectedWindow:      cfg.SelectedWindow,
			CatalogViewApps:     cfg.CatalogViewApps,
			Logger:              log.With("part", "deferral"),
		})
		if err != nil {
			return nil, fmt.Errorf("start defer engine: %w", err)
		}
		inst.engine = eng
		// deferproxy exec tags its command's sessions; the tally keeps what they did for its summary.
		// A PostgreSQL session carries it in its options, a Snowflake session as a login parameter.
		inst.tally = tally.New(eng, func(info engine.SessionInfo) string {
			return cmp.Or(proxy.SessionTag(info.Params), info.Params[snowflake.TagParam])
		})
		hook = proxy.EngineHook(inst.tally)
	} else {
		engineNote = "pass-through: no production manifest configured (set --manifest to defer to production)"
		log.Warn("no production manifest configured: the proxy forwards every statement unchanged", "hint", "pass --manifest path/to/prod/manifest.json")
	}

	var lc net.ListenConfig
	var srv *proxy.Server
	if cfg.Upstream != "" {
		var err error
		if srv, err = startProxy(ctx, inst, cfg, tlsCfg, hook, log); err != nil {
			return nil, err
		}
	}
	if cfg.SnowflakeUpstream != "" {
		if err := startSnowflake(ctx, inst, cfg, log); err != nil {
			return nil, err
		}
	}

	var adminLn net.Listener
	if cfg.Admin != "" {
		var setMode func(string) error
		if inst.engine != nil {
			setMode = inst.engine.SetDefaultMode
		}
		ac := admin.Config{
			Addr:            cfg.Admin,
			Version:         version,
			Secrets:         cfg.secrets(),
			Hosts:           cfg.AdminHosts,
			Token:           cfg.AdminToken,
			Sessions:        func() admin.SessionStats { return sessionStats(srv) },
			Ready:           readiness(cfg, inst.engine),
			Engine:          engineSource(inst.engine),
			EngineNote:      engineNote,
			Logger:          log.With("part", "admin"),
			SetDefaultMode:  setMode,
			ExecReport:      execReport(inst.tally),
			ExecDevManifest: execDevManifest(inst.engine),
		}
		if srv != nil {
			ac.Listen, ac.Upstream = inst.ln.Addr().String(), secret.DSN(cfg.Upstream)
		}
		if inst.sf != nil {
			ac.Snowflake = snowflakeStatus(inst.sf, inst.sfLn.Addr().String(), cfg.SnowflakeUpstream)
		}
		a, err := admin.New(ac)
		if err != nil {
			return nil, err
		}
		adminLn, err = lc.Listen(ctx, "tcp", cfg.Admin)
		if err != nil {
			return nil, fmt.Errorf("admin listen %s: %w (pass --admin with a free address, or --admin \"\" to disable it)", cfg.Admin, err)
		}
		inst.admin, inst.adminLn = a, adminLn
	}

	if srv != nil {
		inst.served++
		go func() {
			if err := srv.Serve(base, inst.ln); err != nil && !errors.Is(err, proxy.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				inst.errc <- fmt.Errorf("proxy: %w", err)
			}
			inst.exited <- struct{}{}
		}()
	}
	if inst.sf != nil {
		inst.served++
		go func() {
			if err := inst.sf.Serve(inst.sfLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				inst.errc <- fmt.Errorf("snowflake listener: %w", err)
			}
			inst.exited <- struct{}{}
		}()
	}
	if inst.admin != nil {
		inst.served++
		go func() {
			if err := inst.admin.Serve(base, adminLn); err != nil {
				inst.errc <- fmt.Errorf("admin: %w", err)
			}
			inst.exited <- struct{}{}
		}()
	}
	attrs := []any{"version", version}
	if srv != nil {
		attrs = append(attrs, "listen", inst.ln.Addr().String(), "upstream", secret.DSN(cfg.Upstream))
	}
	if inst.sf != nil {
		attrs = append(attrs, "snowflake_listen", inst.sfLn.Addr().String(), "snowflake_upstream", secret.DSN(cfg.SnowflakeUpstream))
	}
	if inst.admin != nil {
		attrs = append(attrs, "admin", adminLn.Addr().String())
	}
	if inst.engine != nil {
		attrs = append(attrs, "manifest", secret.DSN(cfg.Manifest), "mode", cfg.Mode)
		if cfg.DevManifest != "" {
			attrs = append(attrs, "dev_manifest", cfg.DevManifest, "dev_manifest_from", cmp.Or(cfg.Sources["dev_manifest"], "default"))
		}
	}
	log.Info("deferproxy serving", attrs...)
	ok = true
	return inst, nil
}

// startProxy builds the PostgreSQL front end and binds its listener.
func startProxy(ctx context.Context, inst *instance, cfg Config, tlsCfg *tls.Config, hook proxy.Hook, log *slog.Logger) (*proxy.Server, error) {
	srv, err := proxy.New(proxy.Config{
		Listen:             cfg.Listen,
		Upstream:           cfg.Upstream,
		TLS:                tlsCfg,
		MaxMessageSize:     cfg.MaxMessageSize,
		MaxClientConns:     cfg.MaxClientConns,
		MaxUnauthenticated: cfg.MaxUnauthenticated,
		HandshakeTimeout:   cfg.HandshakeTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		Logger:             log.With("part", "proxy"),
		Hook:               hook,
	})
	if err != nil {
		return nil, usageError{fmt.Errorf("configure proxy: %w", err)}
	}
	inst.proxy = srv
	var lc net.ListenConfig
	inst.ln, err = lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w (pass --listen with a free address)", cfg.Listen, err)
	}
	return srv, nil
}

// startSnowflake builds the Snowflake front end on the same engine and binds its listener.
func startSnowflake(ctx context.Context, inst *instance, cfg Config, log *slog.Logger) error {
	sc := snowflake.Config{
		Listen:    cfg.SnowflakeListen,
		Upstream:  cfg.SnowflakeUpstream,
		Logger:    log.With("part", "snowflake"),
		CheckMode: func(m string) error { _, err := catalog.ParseMode(m); return err },
	}
	if inst.tally != nil {
		sc.Engine = inst.tally
	}
	sf, err := snowflake.New(sc)
	if err != nil {
		return usageError{fmt.Errorf("configure the Snowflake listener: %w", err)}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.SnowflakeListen)
	if err != nil {
		return fmt.Errorf("snowflake listen %s: %w (pass --snowflake-listen with a free address)", cfg.SnowflakeListen, err)
	}
	inst.sf, inst.sfLn = sf, ln
	return nil
}

// proxyAddr is the address PostgreSQL clients connect to, "" without a PostgreSQL upstream.
func (in *instance) proxyAddr() string {
	if in.ln == nil {
		return ""
	}
	return in.ln.Addr().String()
}

// snowflakeAddr is the address Snowflake clients connect to, "" without a Snowflake upstream.
func (in *instance) snowflakeAddr() string {
	if in.sfLn == nil {
		return ""
	}
	return in.sfLn.Addr().String()
}

// adminAddr is the admin listener's address, "" when disabled.
func (in *instance) adminAddr() string {
	if in.adminLn == nil {
		return ""
	}
	return in.adminLn.Addr().String()
}

// shutdown stops accepting, lets sessions finish for up to timeout (then the proxy closes them with 57P01), stops
// the admin listener and the engine, in that order: sessions need the engine until they are gone.
func (in *instance) shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if in.proxy != nil {
		if err := in.proxy.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, fmt.Errorf("proxy shutdown: %w", err))
		}
	}
	if in.sf != nil {
		if err := in.sf.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, fmt.Errorf("snowflake listener shutdown: %w", err))
		}
	}
	if in.admin != nil {
		actx, acancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := in.admin.Shutdown(actx); err != nil {
			errs = append(errs, fmt.Errorf("admin shutdown: %w", err))
		}
		acancel()
	}
	for i := 0; i < in.served; i++ {
		select {
		case <-in.exited:
		case <-time.After(5 * time.Second):
			errs = append(errs, errors.New("a listener did not stop within 5s of shutdown"))
			i = in.served
		}
	}
	in.closeAll()
	in.log.Info("deferproxy stopped")
	return errors.Join(errs...)
}

// closeAll releases what start built; safe on a half-built instance.
func (in *instance) closeAll() {
	if in.engine != nil {
		_ = in.engine.Close()
	}
	if in.ln != nil {
		_ = in.ln.Close()
	}
	if in.sfLn != nil {
		_ = in.sfLn.Close()
	}
	in.cancel()
}

// sessionStats adapts the proxy's counters for admin (which does not import proxy).
func sessionStats(srv *proxy.Server) admin.SessionStats {
	if srv == nil {
		return admin.SessionStats{}
	}
	st := srv.Stats()
	return admin.SessionStats{Active: st.Active, Total: st.Total, Rejected: st.Rejected, Cancels: st.Cancels}
}

// engineSource hands admin the engine as a StatusSource, or nil (a typed nil pointer must not reach admin).
func engineSource(e *deferral.Engine) admin.StatusSource {
	if e == nil {
		return nil
	}
	return engineStatus{e}
}

// engineStatus adapts deferral.Engine.Status (a concrete type) to admin.StatusSource; the engine's own metrics
// (it is a prometheus.Collector) come with it.
type engineStatus struct{ *deferral.Engine }

func (s engineStatus) Status() any { return s.Engine.Status() }

// LatestDeferrals implements admin.DeferralLister for the status page.
func (s engineStatus) LatestDeferrals() []admin.Deferral {
	recent := s.Engine.Status().Recent
	out := make([]admin.Deferral, len(recent))
	for i, r := range recent {
		out[i] = admin.Deferral{At: r.At, Session: r.Session, NodeID: r.NodeID, From: r.From, To: r.To}
	}
	return out
}

// readiness is /readyz: each configured upstream accepts TCP connections and, with an engine, a production manifest
// is loaded.
func readiness(cfg Config, eng *deferral.Engine) func(context.Context) error {
	var addrs []string
	if u, err := url.Parse(cfg.Upstream); err == nil && cfg.Upstream != "" { // validated already
		addrs = append(addrs, net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), "5432")))
	}
	if u, err := url.Parse(cfg.SnowflakeUpstream); err == nil && cfg.SnowflakeUpstream != "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		addrs = append(addrs, net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), port)))
	}
	return func(ctx context.Context) error {
		for _, addr := range addrs {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return fmt.Errorf("upstream %s unreachable: %w", addr, err)
			}
			c.Close()
		}
		if eng != nil {
			st := eng.Status()
			if st.Production == nil {
				msg := "no production manifest loaded"
				if st.ProductionError != "" {
					msg += ": " + st.ProductionError
				}
				return errors.New(msg)
			}
		}
		return nil
	}
}

// snowflakeStatus is the Snowflake listener's part of /status.
func snowflakeStatus(sf *snowflake.Server, listen, upstream string) func() any {
	return func() any {
		return struct {
			Listen   string `json:"listen"`
			Upstream string `json:"upstream"`
			snowflake.Stats
		}{listen, secret.DSN(upstream), sf.Stats()}
	}
}

// execReport serves deferproxy exec's summaries from the tally (nil without an engine).
func execReport(t *tally.Tally) func(string) (any, bool) {
	if t == nil {
		return nil
	}
	return func(tag string) (any, bool) { return t.Report(tag) }
}

// execDevManifest loads deferproxy exec's uploaded dev manifests into the engine (nil without one).
func execDevManifest(e *deferral.Engine) func(string, io.Reader) (string, error) {
	if e == nil {
		return nil
	}
	return func(tag string, r io.Reader) (string, error) {
		m, err := e.SetDevManifest(tag, r)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("dev manifest of %s for tag %s: %d nodes", m.Metadata().ProjectName, tag, m.Len()), nil
	}
}
