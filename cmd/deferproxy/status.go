package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/deferproxy/deferproxy/admin"
	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/internal/age"
	"github.com/deferproxy/deferproxy/snowflake"
)

// statusDoc is admin's /status document with the engine part decoded as the engine's own type.
type statusDoc struct {
	admin.Status
	Engine    *deferral.Status `json:"engine,omitempty"`
	Snowflake *snowflakeDoc    `json:"snowflake,omitempty"`
}

// snowflakeDoc is the Snowflake listener's part of /status (snowflakeStatus in serve.go).
type snowflakeDoc struct {
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	snowflake.Stats
}

func newStatusCmd() *cobra.Command {
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what a running deferproxy is doing (production run, mapping, deferrals, sessions)",
		Long: `status asks a running deferproxy's admin listener (--admin, default 127.0.0.1:6480; or the admin key of --config,
or DEFERPROXY_ADMIN) for its /status and prints it, sending the proxy's admin token when it has one (--admin-token,
DEFERPROXY_ADMIN_TOKEN or admin_token of --config). --json prints the document unchanged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := statusAdminClient(cmd, os.LookupEnv)
			if err != nil {
				return usageError{err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if asJSON {
				body, err := fetchStatus(ctx, client)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			return showStatus(ctx, client, cmd.OutOrStdout())
		},
	}
	addAdminClientFlags(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the raw /status JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the proxy")
	return cmd
}

// adminClient reaches a running proxy's admin listener: its address and, when the proxy requires one, the admin
// token, sent as "Authorization: Bearer".
type adminClient struct {
	addr, token string
}

// get GETs path (e.g. "/status") from the listener.
func (c adminClient) get(ctx context.Context, path string) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, path, nil)
}

// do sends one request to the listener with the token.
func (c adminClient) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addr+path, body)
	if err != nil {
		return nil, fmt.Errorf("admin address %q: %w", c.addr, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return http.DefaultClient.Do(req)
}

// addAdminClientFlags registers the flags that find the admin listener: --admin, --admin-token, --config.
func addAdminClientFlags(fs *pflag.FlagSet) {
	fs.String("admin", "127.0.0.1:6480", "admin listener of the running proxy (env DEFERPROXY_ADMIN)")
	fs.String("admin-token", "", "the proxy's admin_token, when it has one (env DEFERPROXY_ADMIN_TOKEN)")
	fs.String("config", "", "read admin and admin_token from this YAML configuration file (env DEFERPROXY_CONFIG)")
}

// statusAdminClient applies the usual precedence to the keys a client of the admin listener needs (admin and
// admin_token): flag > env > config file > default.
func statusAdminClient(cmd *cobra.Command, getenv func(string) (string, bool)) (adminClient, error) {
	fs := cmd.Flags()
	file, _ := fs.GetString("config")
	if !fs.Changed("config") {
		if e, ok := getenv(envPrefix + "CONFIG"); ok {
			file = e
		}
	}
	var v *viper.Viper
	if file != "" {
		v = viper.New()
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return adminClient{}, fmt.Errorf("read config %s: %w", file, err)
		}
	}
	value := func(key string) string {
		flag := strings.ReplaceAll(key, "_", "-")
		val, _ := fs.GetString(flag)
		if fs.Changed(flag) {
			return val
		}
		if e, ok := getenv(envPrefix + strings.ToUpper(key)); ok {
			return e
		}
		if v != nil && v.IsSet(key) {
			return v.GetString(key)
		}
		return val
	}
	addr, err := checkAdminAddr(value("admin"))
	return adminClient{addr: addr, token: value("admin_token")}, err
}

func checkAdminAddr(a string) (string, error) {
	if a == "" {
		return "", fmt.Errorf("the admin listener is disabled (admin: \"\"), so there is no status to read: start deferproxy with --admin 127.0.0.1:6480")
	}
	return a, nil
}

func fetchStatus(ctx context.Context, c adminClient) ([]byte, error) {
	resp, err := c.get(ctx, "/status")
	if err != nil {
		return nil, fmt.Errorf("no deferproxy admin listener answers at %s: %w (is `deferproxy serve` running? pass its --admin address)", c.addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read /status from %s: %w", c.addr, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("the proxy at %s requires its admin token: pass --admin-token, set DEFERPROXY_ADMIN_TOKEN, or admin_token in --config", c.addr)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET http://%s/status: %s: %s", c.addr, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// showStatus fetches /status from the admin listener and prints it for a terminal.
func showStatus(ctx context.Context, c adminClient, w io.Writer) error {
	addr := c.addr
	body, err := fetchStatus(ctx, c)
	if err != nil {
		return err
	}
	var doc statusDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("decode /status of %s: %w (is that a deferproxy admin listener of the same version?)", addr, err)
	}
	printStatus(w, doc)
	return nil
}

// printStatus renders the status document for a terminal (SPEC §7: production run, mapping, counts, sessions).
func printStatus(w io.Writer, d statusDoc) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	ready := "ready"
	if !d.Ready {
		ready = "NOT READY: " + d.ReadyError
	}
	p("deferproxy %s, up %s, %s\n", d.Version, d.Uptime, ready)
	if d.Listen != "" || d.Snowflake == nil { // a Snowflake-only deferproxy has no PostgreSQL listener
		p("  listening   %s\n", d.Listen)
		p("  upstream    %s\n", d.Upstream)
		p("  sessions    %d open, %d since start\n", d.Sessions.Active, d.Sessions.Total)
	}
	if sf := d.Snowflake; sf != nil {
		p("  snowflake   %s → %s: %d sessions open, %d since start; %d statements, %d deferrals, %d refused\n",
			sf.Listen, sf.Upstream, sf.Active, sf.Total, sf.Statements, sf.Deferrals, sf.Refusals)
	}
	e := d.Engine
	if e == nil {
		note := d.EngineNote
		if note == "" {
			note = "no defer engine"
		}
		p("\n%s\n", note)
		return
	}
	p("\nProduction run\n")
	if r := e.Production; r != nil {
		p("  run            %s\n", r.Label)
		if !r.FinishedAt.IsZero() {
			p("  finished       %s (%s ago)\n", r.FinishedAt.UTC().Format(time.RFC3339), age.Human(time.Since(r.FinishedAt)))
		}
		if r.URL != "" {
			p("  url            %s\n", r.URL)
		}
		p("  source         %s\n", r.Source)
		if r.ProjectName != "" {
			p("  project        %s (%d nodes)\n", r.ProjectName, r.Nodes)
		}
		p("  invocation id  %s\n", r.InvocationID)
		p("  dbt version    %s\n", r.DBTVersion)
		age := age.Human(time.Duration(r.AgeSeconds * float64(time.Second)))
		stale := ""
		if r.Stale {
			stale = "  STALE: production has not run successfully since; deferred reads may be old"
		}
		p("  generated at   %s (%s ago)%s\n", r.GeneratedAt.UTC().Format(time.RFC3339), age, stale)
	} else {
		p("  none loaded yet: statements are forwarded unchanged, and /readyz says not ready, until one loads\n")
	}
	if src := e.ProductionSource; src != nil {
		line := "  checked        " + ago(src.LastCheck) + ", changed " + ago(src.LastChange) + ", every " + src.Poll
		if src.FromCache {
			line += "; in use: the on-disk copy from state_dir (the source has not answered yet)"
		}
		p("%s\n", line)
	}
	switch {
	case e.ProductionError != "" && e.Production != nil:
		p("  last error     %s (the last good manifest stays in use)\n", e.ProductionError)
	case e.ProductionError != "":
		p("  last error     %s\n", e.ProductionError)
	}
	p("\nMapping        %s\n", e.Mapping)
	for _, w := range e.Warnings {
		p("WARNING        %s (%d): %s\n", w.Kind, w.Count, w.Text)
		if len(w.Nodes) > 0 {
			p("               e.g. %s\n", strings.Join(w.Nodes, ", "))
		}
	}
	p("Default mode   %s\n", e.DefaultMode)
	p("\nStatements %d, rewritten %d, relations deferred %d, refused %d, failed open %d, introspection rewrites %d\n",
		e.Statements, e.Rewritten, e.Deferrals, e.Refused, e.FailedOpen, e.IntrospectionRW)
	if len(e.Sessions) > 0 {
		p("\nSessions\n")
		p("  %-6s %-16s %-16s %-12s %-16s %9s  %s\n", "ID", "USER", "DATABASE", "MODE", "DEV SCHEMA", "DEFERRALS", "APPLICATION")
		for _, s := range e.Sessions {
			mode := s.Mode
			if s.CatalogView {
				mode += "+view" // the catalog view (SPEC §5.6)
			}
			p("  %-6d %-16s %-16s %-12s %-16s %9d  %s\n", s.ID, s.User, s.Database, mode, s.DevSchema, s.Deferrals, s.Application)
		}
	}
	if len(e.Recent) > 0 {
		p("\nLatest deferrals\n")
		for i, r := range e.Recent {
			if i == 10 {
				p("  … %d more on the admin page\n", len(e.Recent)-10)
				break
			}
			p("  %s  session %d  %s → %s\n", r.At.Local().Format("15:04:05"), r.Session, r.From, r.To)
		}
	}
}

// ago writes a past time as an age ("12s ago"), or "never".
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return age.Human(time.Since(t)) + " ago"
}
