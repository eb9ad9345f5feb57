package catalog

import (
	"context"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// waitExists waits until Exists(rel) answers want, or fails after a bound (a bound on waiting, not a speed assertion).
func waitExists(t *testing.T, c *DevCatalog, rel Relation, want bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got, err := c.Exists(context.Background(), rel)
		if err != nil {
			t.Fatal(err)
		}
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("Exists(%v) still %v after 30s", rel, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A relation created or dropped by another client, outside the proxy, is seen at once when the database has the
// notification triggers — with a TTL of an hour, which would otherwise hide it for an hour (the control below).
func TestDevCatalogNotify(t *testing.T) {
	pg := pgtest.Shared(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE SCHEMA dbt_notify;")
	pg.Exec(t, db, NotifySQL)
	pg.Exec(t, db, NotifySQL) // idempotent
	c := newCatalog(t, pg.URL(pgtest.SuperUser, "", "postgres"), time.Hour)
	rel := Relation{db, "dbt_notify", "v"}
	mustExist(t, c, rel, false)
	waitFor(t, "the listener", func() bool { return c.Listening()[db] })

	pg.Exec(t, db, "CREATE VIEW dbt_notify.v AS SELECT 1 AS x")
	created := waitExists(t, c, rel, true)
	pg.Exec(t, db, "DROP VIEW dbt_notify.v")
	dropped := waitExists(t, c, rel, false)
	pg.Exec(t, db, "CREATE TABLE dbt_notify.t (x int); ALTER TABLE dbt_notify.t RENAME TO v")
	renamed := waitExists(t, c, rel, true)
	if st := c.Stats(); st.Notified == 0 {
		t.Errorf("no listing was forgotten by a notification: %+v", st)
	}
	t.Logf("seen after: create %v, drop %v, rename %v (TTL 1h)", created, dropped, renamed)

	// Control: a database without the triggers keeps its listing until the TTL.
	plain := pg.NewDatabase(t)
	pg.Exec(t, plain, "CREATE SCHEMA dbt_notify;")
	other := Relation{plain, "dbt_notify", "v"}
	mustExist(t, c, other, false)
	pg.Exec(t, plain, "CREATE VIEW dbt_notify.v AS SELECT 1 AS x")
	time.Sleep(200 * time.Millisecond)
	mustExist(t, c, other, false) // cached for the hour-long TTL: what catalog_ttl bounds without the triggers
	if c.Listening()[plain] {
		t.Error("listening in a database without the triggers")
	}
}
