// Package pgtest gives integration tests throwaway PostgreSQL clusters (started by internal/pgcluster) and the test
// helpers around them.
//
// Most tests use Shared, one cluster per test binary; TestMain calls Main so the cluster is stopped at the end.
// Tests that restart or break the server use a private cluster from Start.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/deferproxy/deferproxy/internal/pgcluster"
)

// Roles and passwords created in every cluster (see internal/pgcluster).
const (
	SuperUser = pgcluster.SuperUser
	TrustUser = pgcluster.TrustUser
	ClearUser = pgcluster.ClearUser
	ClearPass = pgcluster.ClearPass
	MD5User   = pgcluster.MD5User
	MD5Pass   = pgcluster.MD5Pass
	ScramUser = pgcluster.ScramUser
	ScramPass = pgcluster.ScramPass
	ReplUser  = pgcluster.ReplUser
	ReplPass  = pgcluster.ReplPass
)

// Options configures a private cluster.
type Options = pgcluster.Options

// ErrNoPostgres means no PostgreSQL server binaries were found under /usr/lib/postgresql.
var ErrNoPostgres = pgcluster.ErrNoPostgres

// FindBinDir returns the bin directory and major version of the newest PostgreSQL under /usr/lib/postgresql.
func FindBinDir() (string, int, error) { return pgcluster.FindBinDir() }

// WriteCertificates writes a test CA and a server certificate signed by it into dir.
func WriteCertificates(dir string) (caFile, certFile, keyFile string, err error) {
	return pgcluster.WriteCertificates(dir)
}

// Cluster is a throwaway PostgreSQL server with the helpers tests use on it.
type Cluster struct {
	*pgcluster.Cluster
}

// Start initialises and starts a private cluster; the caller stops it.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	c, err := pgcluster.Start(ctx, opt)
	if err != nil {
		return nil, err
	}
	return &Cluster{c}, nil
}

// Exec runs sql (may hold several statements) as the superuser in database, over the simple query protocol.
func (c *Cluster) Exec(t testing.TB, database, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgconn.Connect(ctx, c.URL(SuperUser, "", database))
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", database, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
		t.Fatalf("pgtest: exec in %s: %v\n%s", database, err, sql)
	}
}

var dbSeq atomic.Int64
var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDatabase creates a fresh, uniquely named database (owned by the superuser, every role may create in its public
// schema) and drops it when the test ends.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	base := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(base) > 40 {
		base = base[:40]
	}
	name := fmt.Sprintf("t_%s_%d_%d", base, os.Getpid(), dbSeq.Add(1))
	c.Exec(t, "postgres", `CREATE DATABASE "`+name+`"`)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgconn.Connect(ctx, c.URL(SuperUser, "", "postgres"))
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`).ReadAll(); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return name
}
