package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// shared is the one cluster of this test binary. It is package state by necessity: every test in the binary must
// find the same server, and TestMain (Main) must be able to stop it.
var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// InCI reports whether the tests run in CI (CI=true), where a missing PostgreSQL or venv is a failure, not a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Shared returns this test binary's cluster, starting it on first use. It fails the test if the cluster cannot
// start, and skips it only when PostgreSQL is not installed and CI is not "true".
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.cluster, shared.err = Start(ctx, Options{})
	})
	if shared.err != nil {
		if errors.Is(shared.err, ErrNoPostgres) && !InCI() {
			t.Skipf("pgtest: %v", shared.err)
		}
		t.Fatalf("pgtest: start shared cluster: %v", shared.err)
	}
	return shared.cluster
}

// Main is the TestMain helper of every package that uses Shared: it runs the tests, stops the shared cluster and exits.
func Main(m *testing.M) {
	code := m.Run()
	if shared.cluster != nil {
		if err := shared.cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop shared cluster: %v\n", err)
		}
	}
	os.Exit(code)
}

// Venv returns the Python venv holding dbt and psycopg2: $DEFERPROXY_VENV, or <repo>/.venv. It fails the test in
// CI and skips it elsewhere when the venv is missing (create it with `make venv`).
func Venv(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DEFERPROXY_VENV")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		dir = filepath.Join(root, ".venv")
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "python")); err != nil {
		if InCI() {
			t.Fatalf("pgtest: Python venv %s missing (run `make venv`): %v", dir, err)
		}
		t.Skipf("pgtest: Python venv %s missing (run `make venv`)", dir)
	}
	return dir
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}
