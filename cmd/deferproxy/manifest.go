package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/internal/age"
)

func newManifestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Inspect production manifest sources",
		Args:  cobra.NoArgs,
	}
	show := &cobra.Command{
		Use:   "show [SOURCE]",
		Short: "Fetch a production manifest source once and show its run, dbt version and deferrable nodes",
		Long: `show fetches SOURCE (default: the manifest key of the configuration) the way serve does — with the same
keys, environment and configuration file (manifest_headers, dbt_cloud_url, s3_endpoint, manifest_run_url,
DBT_CLOUD_API_TOKEN, PARADIME_API_*, the AWS credential chain) — and prints the production run's identity (run id,
job or schedule, finished time, age, URL), the dbt version and the deferrable nodes by type: the quickest check that a
source is configured right. Nothing is cached or kept.`,
		Example: `  deferproxy manifest show prod-state/
  DBT_CLOUD_API_TOKEN=… deferproxy manifest show dbt-cloud://12345/67890
  deferproxy manifest show --config deferproxy.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd, os.LookupEnv)
			if err != nil {
				return usageError{err}
			}
			source := cfg.Manifest
			if len(args) == 1 {
				source = args[0]
			}
			if source == "" {
				return usageError{fmt.Errorf("no manifest source: pass one (deferproxy manifest show prod-state/) or set manifest in the configuration")}
			}
			timeout, _ := cmd.Flags().GetDuration("timeout")
			return showManifest(cmd.Context(), cmd.OutOrStdout(), source, cfg, timeout)
		},
	}
	addConfigFlags(show.Flags())
	show.Flags().Duration("timeout", 2*time.Minute, "how long fetching may take")
	cmd.AddCommand(show)
	return cmd
}

// showManifest fetches source once and prints what serve would defer to.
func showManifest(ctx context.Context, w io.Writer, source string, cfg Config, timeout time.Duration) error {
	opts := cfg.manifestOptions()
	opts.StateDir = "" // a look, not a cache
	opts.FetchTimeout = timeout
	opts.Logger = slog.New(slog.DiscardHandler) // the error is returned; progress is not news here
	store, err := catalog.NewManifestStore(source, opts)
	if err != nil {
		return usageError{err}
	}
	if err := store.Reload(); err != nil {
		return err
	}
	m := store.Current()
	md, run := m.Metadata(), m.Run()
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("source         %s (%s)\n", store.Source(), store.Kind())
	p("run            %s\n", run.ID)
	if run.Job != "" {
		p("job            %s\n", run.Job)
	}
	if !run.FinishedAt.IsZero() {
		p("finished       %s (%s ago)\n", run.FinishedAt.UTC().Format(time.RFC3339), age.Human(time.Since(run.FinishedAt)))
	}
	if run.URL != "" {
		p("url            %s\n", run.URL)
	} else {
		p("url            (none: set manifest_run_url for file, http and s3 sources)\n")
	}
	p("project        %s (%s)\n", md.ProjectName, md.AdapterType)
	p("dbt version    %s (manifest v%d)\n", md.DbtVersion, md.SchemaVersion)
	p("invocation id  %s\n", md.InvocationID)
	p("generated at   %s\n", md.GeneratedAt)
	counts := map[string]int{}
	total, deferrable := 0, 0
	m.Nodes(func(n *catalog.Node) bool {
		total++
		if m.Deferrable(n) {
			deferrable++
			counts[n.ResourceType]++
		}
		return true
	})
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	p("deferrable     %d of %d nodes:", deferrable, total)
	for _, t := range types {
		p(" %s %d", t, counts[t])
	}
	p("\n")
	return nil
}
