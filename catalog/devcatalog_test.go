package catalog

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

func newCatalog(t *testing.T, dsn string, ttl time.Duration) *DevCatalog {
	t.Helper()
	c, err := NewDevCatalog(DevCatalogConfig{DSN: dsn, TTL: ttl, Timeout: 5 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func mustExist(t *testing.T, c Existence, rel Relation, want bool) {
	t.Helper()
	got, err := c.Exists(context.Background(), rel)
	if err != nil {
		t.Fatalf("Exists(%v): %v", rel, err)
	}
	if got != want {
		t.Fatalf("Exists(%v) = %v, want %v", rel, got, want)
	}
}

func TestDevCatalogExistence(t *testing.T) {
	pg := pgtest.Shared(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `
CREATE SCHEMA dbt_alice;
CREATE TABLE dbt_alice.t (id int PRIMARY KEY);
CREATE VIEW dbt_alice.v AS SELECT 1 AS x;
CREATE MATERIALIZED VIEW dbt_alice.mv AS SELECT 1 AS x;
CREATE TABLE dbt_alice.p (d date) PARTITION BY RANGE (d);
CREATE TABLE dbt_alice."Mixed_Case" (x int);
CREATE SEQUENCE dbt_alice.seq;
CREATE TYPE dbt_alice.typ AS (a int);
CREATE SCHEMA analytics;
CREATE TABLE analytics.t (id int);`)
	c := newCatalog(t, pg.URL("trust_user", "", "postgres"), time.Hour)
	for _, tt := range []struct {
		rel  Relation
		want bool
	}{
		{Relation{db, "dbt_alice", "t"}, true},
		{Relation{db, "dbt_alice", "v"}, true},
		{Relation{db, "dbt_alice", "mv"}, true},
		{Relation{db, "dbt_alice", "p"}, true},
		{Relation{db, "dbt_alice", "Mixed_Case"}, true},
		{Relation{db, "dbt_alice", "mixed_case"}, false}, // quoted names are exact
		{Relation{db, "dbt_alice", "t_pkey"}, false},     // an index is not a relation a query reads
		{Relation{db, "dbt_alice", "seq"}, false},
		{Relation{db, "dbt_alice", "typ"}, false},
		{Relation{db, "dbt_alice", "missing"}, false},
		{Relation{db, "no_such_schema", "t"}, false},
		{Relation{db, "analytics", "t"}, true},
		{Relation{"postgres", "dbt_alice", "t"}, false}, // another database: its own pool and pg_class
	} {
		mustExist(t, c, tt.rel, tt.want)
	}
	rels, err := c.Relations(context.Background(), SchemaName{db, "dbt_alice"})
	if err != nil {
		t.Fatal(err)
	}
	if rels["t"] != 'r' || rels["v"] != 'v' || rels["mv"] != 'm' || rels["p"] != 'p' || len(rels) != 5 {
		t.Errorf("Relations = %v", rels)
	}
	// Warm: no round trip.
	before := c.Stats()
	for i := 0; i < 100; i++ {
		mustExist(t, c, Relation{db, "dbt_alice", "t"}, true)
	}
	after := c.Stats()
	if after.Queries != before.Queries || after.Hits != before.Hits+100 {
		t.Errorf("warm lookups: stats before %+v after %+v", before, after)
	}
	if before.Queries != 4 { // (db, dbt_alice), (db, no_such_schema), (db, analytics), (postgres, dbt_alice)
		t.Errorf("cold lookups sent %d queries, want 4", before.Queries)
	}
}

func TestDevCatalogInvalidate(t *testing.T) {
	pg := pgtest.Shared(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE SCHEMA dbt_alice`)
	c := newCatalog(t, pg.URL("trust_user", "", db), time.Hour)
	rel := Relation{db, "dbt_alice", "orders"}
	mustExist(t, c, rel, false)
	pg.Exec(t, db, `CREATE TABLE dbt_alice.orders (id int)`)
	mustExist(t, c, rel, false) // cached for an hour: the change is not seen yet
	q := c.Stats().Queries
	c.Invalidate(db, "other_schema")
	mustExist(t, c, rel, false)
	c.Invalidate(db, "dbt_alice")
	mustExist(t, c, rel, true)
	if got := c.Stats().Queries; got != q+1 {
		t.Errorf("Invalidate cost %d queries, want 1", got-q)
	}
	pg.Exec(t, db, `DROP TABLE dbt_alice.orders`)
	c.InvalidateAll()
	mustExist(t, c, rel, false)
}

func TestDevCatalogTTLRefresh(t *testing.T) {
	pg := pgtest.Shared(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE SCHEMA dbt_alice`)
	c := newCatalog(t, pg.URL("trust_user", "", db), 50*time.Millisecond)
	rel := Relation{db, "dbt_alice", "made_elsewhere"}
	mustExist(t, c, rel, false)
	pg.Exec(t, db, `CREATE VIEW dbt_alice.made_elsewhere AS SELECT 1`)
	waitFor(t, "TTL refresh", func() bool {
		ok, err := c.Exists(context.Background(), rel)
		return err == nil && ok
	})
	if c.Stats().Queries < 2 {
		t.Errorf("stats %+v: the refresh did not query", c.Stats())
	}
}

// Concurrent cold misses of one schema share one query.
func TestDevCatalogSingleflight(t *testing.T) {
	pg := pgtest.Shared(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE SCHEMA dbt_alice; CREATE TABLE dbt_alice.t (x int)`)
	c := newCatalog(t, pg.URL("trust_user", "", db), time.Hour)
	// Hold the real query until every caller is waiting (the wrapper only delays; the query itself is real).
	release := make(chan struct{})
	var calls atomic.Int32
	orig := c.list
	c.list = func(ctx context.Context, s SchemaName) (map[string]byte, error) {
		calls.Add(1)
		<-release
		return orig(ctx, s)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := c.Exists(context.Background(), Relation{db, "dbt_alice", "t"})
			if err == nil && !ok {
				err = errors.New("t does not exist")
			}
			errs <- err
		}()
	}
	waitFor(t, "all callers to miss", func() bool { return c.Stats().Misses == n })
	for i := 0; i < 100; i++ { // let the last caller get from its miss into the shared flight
		runtime.Gosched()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 || c.Stats().Queries != 1 {
		t.Errorf("%d concurrent cold misses ran %d catalog queries (%d listings), want 1", n, c.Stats().Queries, calls.Load())
	}
}

// A catalog server that accepts connections and never answers: the lookup fails within the timeout with
// ErrCatalogUnavailable, and the failure is remembered briefly instead of costing a timeout per statement.
func TestDevCatalogTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	c, err := NewDevCatalog(DevCatalogConfig{DSN: "postgres://x@" + ln.Addr().String() + "/db?sslmode=disable",
		Timeout: 200 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rel := Relation{"db", "dbt_alice", "t"}
	_, err = c.Exists(context.Background(), rel)
	if !errors.Is(err, ErrCatalogUnavailable) {
		t.Fatalf("Exists against a silent server: %v, want ErrCatalogUnavailable", err)
	}
	q := c.Stats().Queries
	if _, err := c.Exists(context.Background(), rel); !errors.Is(err, ErrCatalogUnavailable) {
		t.Fatalf("second Exists: %v", err)
	}
	if c.Stats().Queries != q {
		t.Error("a failure just seen was retried at once")
	}
	// The caller's own deadline is honoured too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Exists(ctx, Relation{"db", "other", "t"}); !errors.Is(err, ErrCatalogUnavailable) {
		t.Fatalf("cancelled Exists: %v", err)
	}
}

func TestDevCatalogServerDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	c := newCatalog(t, "postgres://trust_user@"+addr+"/postgres?sslmode=disable", time.Hour)
	if _, err := c.Exists(context.Background(), Relation{"postgres", "public", "t"}); !errors.Is(err, ErrCatalogUnavailable) {
		t.Fatalf("Exists with the server down: %v", err)
	}
	if _, err := NewDevCatalog(DevCatalogConfig{DSN: "postgres://%zz"}); err == nil {
		t.Error("a bad DSN was accepted")
	}
}

func TestStaticCatalog(t *testing.T) {
	c := NewStaticCatalog(Relation{"d", "s", "a"})
	mustExist(t, c, Relation{"d", "s", "a"}, true)
	mustExist(t, c, Relation{"d", "s", "b"}, false)
}

// ListingID names the listing Exists answers from: the same id while nothing changed, 0 once it is invalidated or
// expired, a new id after the next listing. Decisions memoized by the defer engine depend on exactly this.
func TestDevCatalogListingID(t *testing.T) {
	pg := pgtest.Shared(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE SCHEMA dbt_alice; CREATE TABLE dbt_alice.t (id int)`)
	c := newCatalog(t, pg.URL("trust_user", "", db), time.Hour)
	ctx := context.Background()
	s := SchemaName{db, "dbt_alice"}
	if id := c.ListingID(s); id != 0 {
		t.Fatalf("ListingID before any listing = %d, want 0", id)
	}
	ok, id1, err := c.ExistsListing(ctx, Relation{db, "dbt_alice", "t"})
	if err != nil || !ok || id1 == 0 {
		t.Fatalf("ExistsListing = %v, %d, %v", ok, id1, err)
	}
	if got := c.ListingID(s); got != id1 {
		t.Fatalf("ListingID after listing = %d, want %d", got, id1)
	}
	if _, id, _ := c.ExistsListing(ctx, Relation{db, "dbt_alice", "missing"}); id != id1 {
		t.Fatalf("a warm ExistsListing answered from listing %d, want %d", id, id1)
	}
	c.Invalidate(db, "dbt_alice")
	if got := c.ListingID(s); got != 0 {
		t.Fatalf("ListingID after Invalidate = %d, want 0", got)
	}
	_, id2, err := c.ExistsListing(ctx, Relation{db, "dbt_alice", "t"})
	if err != nil || id2 == 0 || id2 == id1 {
		t.Fatalf("relisting gave id %d (first %d), err %v", id2, id1, err)
	}

	short := newCatalog(t, pg.URL("trust_user", "", db), 30*time.Millisecond)
	if _, id, err := short.ExistsListing(ctx, Relation{db, "dbt_alice", "t"}); err != nil || id == 0 {
		t.Fatalf("ExistsListing = %d, %v", id, err)
	}
	waitFor(t, "listing expiry", func() bool { return short.ListingID(s) == 0 })
}
