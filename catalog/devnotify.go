package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// The dev catalog learns about DDL seen through the proxy at once, but a view created or dropped with another client
// (psql directly, a BI tool's own connection, a colleague) is seen only when the listing's catalog_ttl runs out. With
// the event triggers of NotifySQL installed in a database, every DDL command there notifies NotifyChannel with the
// schemas it touched, and the catalog, LISTENing on one connection per database it lists, forgets those listings at
// once. Without them nothing changes: listings expire after catalog_ttl.

// NotifyChannel is the channel the event triggers of NotifySQL notify.
const NotifyChannel = "deferproxy_ddl"

// NotifySQL installs, in one database, the event triggers that tell deferproxy which schemas a DDL command changed
// (`deferproxy setup-notify` prints or applies it). Creating event triggers takes a superuser. It is idempotent.
const NotifySQL = `-- deferproxy: tell the proxy's dev catalog at once which schemas a DDL command changed (docs/SPEC.md §6).
CREATE SCHEMA IF NOT EXISTS deferproxy;

CREATE OR REPLACE FUNCTION deferproxy.notify_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE s text;
BEGIN
  FOR s IN SELECT DISTINCT schema_name FROM pg_event_trigger_ddl_commands() WHERE schema_name IS NOT NULL LOOP
    PERFORM pg_notify('deferproxy_ddl', json_build_object('schema', s)::text);
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION deferproxy.notify_drop() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE s text;
BEGIN
  FOR s IN SELECT DISTINCT schema_name FROM pg_event_trigger_dropped_objects() WHERE schema_name IS NOT NULL LOOP
    PERFORM pg_notify('deferproxy_ddl', json_build_object('schema', s)::text);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS deferproxy_ddl;
CREATE EVENT TRIGGER deferproxy_ddl ON ddl_command_end EXECUTE FUNCTION deferproxy.notify_ddl();
DROP EVENT TRIGGER IF EXISTS deferproxy_drop;
CREATE EVENT TRIGGER deferproxy_drop ON sql_drop EXECUTE FUNCTION deferproxy.notify_drop();
`

// notifyInstalledQuery tells whether NotifySQL was applied to the connection's database.
const notifyInstalledQuery = `SELECT count(*) = 2 FROM pg_catalog.pg_event_trigger
WHERE evtname IN ('deferproxy_ddl', 'deferproxy_drop') AND evtenabled <> 'D'`

// notifyRecheck is how often a database without the triggers (or whose listener lost its connection) is looked at
// again: a later `deferproxy setup-notify` takes effect without a restart.
const notifyRecheck = 30 * time.Second

// listen keeps a LISTEN connection on database db (a pool key: "" is the DSN's database) until ctx is done, and
// invalidates the listings of the schemas each notification names. While it is not listening — no triggers, no
// connection — listings simply expire after the TTL.
func (c *DevCatalog) listen(ctx context.Context, db string) {
	last := "" // what was last logged: each state is logged once, not at every recheck
	for {
		installed, err := c.listenOnce(ctx, db)
		if ctx.Err() != nil {
			return
		}
		c.notifyState(db, false)
		switch {
		case err != nil && last != err.Error():
			last = err.Error()
			c.cfg.Logger.Warn("dev catalog: DDL notifications interrupted; listings expire after catalog_ttl meanwhile",
				"database", db, "err", err)
		case err == nil && !installed && last != "not installed":
			last = "not installed"
			c.cfg.Logger.Info("dev catalog: no DDL notification triggers in this database; changes made outside the "+
				"proxy are seen within catalog_ttl (deferproxy setup-notify installs them)", "database", db)
		case err == nil && installed:
			last = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(notifyRecheck):
		}
	}
}

// listenOnce connects, checks the triggers and LISTENs until the connection fails or ctx is done.
func (c *DevCatalog) listenOnce(ctx context.Context, db string) (installed bool, err error) {
	cfg := c.base.ConnConfig.Copy()
	if db != "" {
		cfg.Database = db
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, notifyInstalledQuery).Scan(&installed); err != nil || !installed {
		return false, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return true, err
	}
	// Whatever changed while nobody listened is unknown: start from fresh listings.
	c.invalidateDatabase(db)
	c.notifyState(db, true)
	c.cfg.Logger.Info("dev catalog: listening for DDL notifications; changes made outside the proxy are seen at once", "database", db)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return true, nil
			}
			return true, err
		}
		var p struct {
			Schema string `json:"schema"`
		}
		if json.Unmarshal([]byte(n.Payload), &p) != nil || p.Schema == "" {
			c.invalidateDatabase(db) // a payload from elsewhere on the channel: be safe
			continue
		}
		c.notified.Add(1)
		c.Invalidate(db, p.Schema)
	}
}

// invalidateDatabase forgets every listing of one database (pool key).
func (c *DevCatalog) invalidateDatabase(db string) {
	c.mu.Lock()
	for s := range c.cache {
		if s.Database == db {
			delete(c.cache, s)
			c.gen[s]++
		}
	}
	c.mu.Unlock()
}

// notifyState records whether database db's listings are kept current by notifications.
func (c *DevCatalog) notifyState(db string, on bool) {
	c.mu.Lock()
	c.listening[db] = on
	c.mu.Unlock()
}

// Listening reports, per database the catalog has listed (pool key, "" = the DSN's), whether DDL notifications keep
// its listings current (true) or they expire after the TTL (false).
func (c *DevCatalog) Listening() map[string]bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]bool, len(c.listening))
	for db, on := range c.listening {
		out[db] = on
	}
	return out
}
