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
	"github.com/spf13/viper"

	"github.com/deferproxy/deferproxy/admin"
	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/internal/age"
)

// statusDoc is admin's /status document with the engine part decoded as the engine's own type.
type statusDoc struct {
	admin.Status
	Engine *deferral.Status `json:"engine,omitempty"`
}

func newStatusCmd() *cobra.Command {
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what a running deferproxy is doing (production run, mapping, deferrals, sessions)",
		Long: `status asks a running deferproxy's admin listener (--admin, default 127.0.0.1:6480; or the admin key of --config,
or DEFERPROXY_ADMIN) for its /status and prints it. --json prints the document unchanged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := statusAdminAddr(cmd, os.LookupEnv)
			if err != nil {
				return usageError{err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if asJSON {
				body, err := fetchStatus(ctx, addr)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			return showStatus(ctx, addr, cmd.OutOrStdout())
		},
	}
	cmd.Flags().String("admin", "127.0.0.1:6480", "admin listener of the running proxy (env DEFERPROXY_ADMIN)")
	cmd.Flags().String("config", "", "read the admin address from this YAML configuration file (env DEFERPROXY_CONFIG)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the raw /status JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the proxy")
	return cmd
}

// statusAdminAddr applies the usual precedence to the one key status needs: flag > env > config file > default.
func statusAdminAddr(cmd *cobra.Command, getenv func(string) (string, bool)) (string, error) {
	fs := cmd.Flags()
	addr, _ := fs.GetString("admin")
	if fs.Changed("admin") {
		return checkAdminAddr(addr)
	}
	if e, ok := getenv(envPrefix + "ADMIN"); ok {
		return checkAdminAddr(e)
	}
	file, _ := fs.GetString("config")
	if !fs.Changed("config") {
		if e, ok := getenv(envPrefix + "CONFIG"); ok {
			file = e
		}
	}
	if file != "" {
		v := viper.New()
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return "", fmt.Errorf("read config %s: %w", file, err)
		}
		if v.IsSet("admin") {
			return checkAdminAddr(v.GetString("admin"))
		}
	}
	return checkAdminAddr(addr)
}

func checkAdminAddr(a string) (string, error) {
	if a == "" {
		return "", fmt.Errorf("the admin listener is disabled (admin: \"\"), so there is no status to read: start deferproxy with --admin 127.0.0.1:6480")
	}
	return a, nil
}

func fetchStatus(ctx context.Context, addr string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return nil, fmt.Errorf("admin address %q: %w", addr, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no deferproxy admin listener answers at %s: %w (is `deferproxy serve` running? pass its --admin address)", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read /status from %s: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET http://%s/status: %s: %s", addr, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// showStatus fetches /status from the admin listener at addr and prints it for a terminal.
func showStatus(ctx context.Context, addr string, w io.Writer) error {
	body, err := fetchStatus(ctx, addr)
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
	p("  listening   %s\n", d.Listen)
	p("  upstream    %s\n", d.Upstream)
	p("  sessions    %d open, %d since start\n", d.Sessions.Active, d.Sessions.Total)
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
			p("  %-6d %-16s %-16s %-12s %-16s %9d  %s\n", s.ID, s.User, s.Database, s.Mode, s.DevSchema, s.Deferrals, s.Application)
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
