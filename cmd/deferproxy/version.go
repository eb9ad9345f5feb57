package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/deferproxy/deferproxy/rewrite"
	"github.com/spf13/cobra"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3". The Makefile passes `git describe`.
var version = "dev"

// versionInfo is what `deferproxy version` prints.
type versionInfo struct {
	Version        string
	Go             string
	Platform       string
	PgQueryModule  string // github.com/pganalyze/pg_query_go module version
	PgQueryVersion string // PostgreSQL version of the parser pg_query embeds (from a parse result, not hard-coded)
	Pgx            string
}

func buildVersionInfo() versionInfo {
	vi := versionInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		PgQueryModule: "unknown", Pgx: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/pganalyze/pg_query_go/v5":
				vi.PgQueryModule = d.Version
			case "github.com/jackc/pgx/v5":
				vi.Pgx = d.Version
			}
		}
	}
	vi.PgQueryVersion = rewrite.ParserVersion()
	return vi
}

func (vi versionInfo) print(w io.Writer) {
	fmt.Fprintf(w, "deferproxy %s\n", vi.Version)
	fmt.Fprintf(w, "  go:         %s %s\n", vi.Go, vi.Platform)
	fmt.Fprintf(w, "  pg_query:   %s (PostgreSQL %s parser)\n", vi.PgQueryModule, vi.PgQueryVersion)
	fmt.Fprintf(w, "  pgx:        %s\n", vi.Pgx)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the deferproxy version and the Go, pg_query and pgx versions it was built with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			buildVersionInfo().print(cmd.OutOrStdout())
			return nil
		},
	}
}
