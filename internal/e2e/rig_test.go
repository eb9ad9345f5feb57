package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/deferproxy/deferproxy/internal/corpus"
	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// Each project gets its own private PostgreSQL cluster with log_statement=all (pgtest.Options.LogStatements): the
// statement log is how a test sees which relations a dbt run read, and a cluster of its own keeps a project's log
// free of the statements of a project running beside it (TestFidelity runs two at a time). In it, the project's
// database holds production in schema "analytics" and dev in "dbt_dev" (plus dbt_dev_<custom> for custom schemas).
const (
	prodSchema = "analytics"
	devSchema  = "dbt_dev"
)

var (
	clustersMu sync.Mutex
	clusters   []*pgtest.Cluster
)

// logCluster starts a private cluster with statement logging; TestMain stops it.
func logCluster(t testing.TB) *pgtest.Cluster {
	t.Helper()
	if os.Getenv("CI") != "true" {
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
			t.Skip("no PostgreSQL server binaries (apt-get install postgresql); in CI this is a failure")
		}
	}
	cl, err := pgtest.Start(context.Background(), pgtest.Options{LogStatements: true})
	if err != nil {
		t.Fatalf("start PostgreSQL with statement logging: %v", err)
	}
	clustersMu.Lock()
	clusters = append(clusters, cl)
	clustersMu.Unlock()
	return cl
}

func stopClusters() {
	clustersMu.Lock()
	defer clustersMu.Unlock()
	for _, cl := range clusters {
		if err := cl.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: stop PostgreSQL: %v\n", err)
		}
	}
}

// repoRoot is the module root (the directory holding go.mod), found from this file's location.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the source file of the e2e package")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// corpusRoot is the dbt part of the repository's test corpus (testdata/corpus/dbt).
func corpusRoot(t testing.TB) string {
	t.Helper()
	return corpus.Path(t, "dbt")
}

// dbtBinary is <venv>/bin/dbt; pgtest.Venv fails in CI when the venv is missing.
func dbtBinary(t testing.TB) string {
	t.Helper()
	venv := pgtest.Venv(t)
	bin := filepath.Join(venv, "bin", "dbt")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dbt is not installed in %s (make venv): %v", venv, err)
		}
		t.Skipf("dbt is not installed in %s (make venv): %v", venv, err)
	}
	return bin
}

// copyTree copies src into dst (created), skipping .git, target, logs, dbt_packages and any name in skip.
func copyTree(src, dst string, skip ...string) error {
	skipped := map[string]bool{".git": true, "target": true, "logs": true, "dbt_packages": true, "dbt_modules": true}
	for _, s := range skip {
		skipped[s] = true
	}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel != "." && skipped[d.Name()] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
}

// qident quotes a PostgreSQL identifier.
func qident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
