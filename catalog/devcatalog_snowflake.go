package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/deferproxy/deferproxy/rewrite"
)

// SnowflakeCatalogConfig configures a Snowflake dev catalog (NewSnowflakeDevCatalog).
type SnowflakeCatalogConfig struct {
	// DSN is a gosnowflake DSN (user:password@account/db?warehouse=…&role=…, or with host, port and protocol for a
	// non-standard endpoint). Its role needs USAGE on the dev databases and schemas; SHOW needs no warehouse.
	DSN string
	// TTL is how long a schema's listing is trusted before it is refreshed (default 10 s).
	TTL time.Duration
	// Timeout bounds one listing, login included (default 2 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// showPage is the rows one SHOW returns at most (Snowflake's cap); a full page is followed by the next, FROM the
// last name.
const showPage = 10000

// NewSnowflakeDevCatalog returns a dev catalog over Snowflake (SPEC §11): the same DevCatalog the engine uses for
// PostgreSQL — listings per schema, cached for TTL, shared by concurrent callers, invalidated by DDL seen on the
// wire — whose listing is `SHOW TERSE OBJECTS IN SCHEMA db.s` through gosnowflake. Names are compared exactly with
// the normalised names of the references (unquoted identifiers folded to upper case, as Snowflake stores them).
// A schema or database that does not exist (error 002043 or 002003) is an empty dev schema: everything in it defers.
// The connection is opened lazily, on the first listing.
func NewSnowflakeDevCatalog(cfg SnowflakeCatalogConfig) (*DevCatalog, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	sc, err := sf.ParseDSN(cfg.DSN)
	if err != nil {
		// gosnowflake's errors may quote the DSN, password included: say what is wrong without it.
		return nil, errors.New("snowflake catalog DSN: not a gosnowflake DSN (write user:password@account/database?warehouse=…; with host, port and protocol=http for a local endpoint)")
	}
	if sc.LoginTimeout <= 0 || sc.LoginTimeout > cfg.Timeout {
		sc.LoginTimeout = cfg.Timeout
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *sc))
	db.SetMaxOpenConns(2)
	c := &DevCatalog{
		cfg:       DevCatalogConfig{DSN: cfg.DSN, TTL: cfg.TTL, Timeout: cfg.Timeout, Logger: cfg.Logger, NoNotify: true},
		cache:     make(map[SchemaName]*schemaEntry),
		gen:       make(map[SchemaName]uint64),
		listening: make(map[string]bool),
		closeFn:   func() { db.Close() },
	}
	c.listenCtx, c.stopListen = context.WithCancel(context.Background())
	c.list = func(ctx context.Context, s SchemaName) (map[string]byte, error) {
		c.queries.Add(1)
		return showTerseObjects(ctx, db, s)
	}
	return c, nil
}

// showTerseObjects lists one schema's objects, page by page. Every kind counts as existing (table, view,
// materialized view, dynamic and external tables); the map's value is the kind's first letter.
func showTerseObjects(ctx context.Context, db *sql.DB, s SchemaName) (map[string]byte, error) {
	in := rewrite.QuoteIdent(s.Schema, rewrite.Snowflake)
	if s.Database != "" {
		in = rewrite.QuoteIdent(s.Database, rewrite.Snowflake) + "." + in
	}
	rels := make(map[string]byte)
	from := ""
	for {
		q := fmt.Sprintf("SHOW TERSE OBJECTS IN SCHEMA %s LIMIT %d", in, showPage)
		if from != "" {
			q += " FROM " + rewrite.QuoteLiteral(from, rewrite.Snowflake)
		}
		n, last, err := showPageRows(ctx, db, q, rels)
		if err != nil {
			var se *sf.SnowflakeError
			if errors.As(err, &se) && (se.Number == 2043 || se.Number == 2003) {
				return map[string]byte{}, nil // no such schema (or database): an empty dev schema
			}
			return nil, err
		}
		// A full page continues after its last name; a server that ignores FROM (an emulator) repeats it: stop.
		if n < showPage || last == from {
			return rels, nil
		}
		from = last
	}
}

// showPageRows reads one SHOW page into rels and returns its row count and last name.
func showPageRows(ctx context.Context, db *sql.DB, q string, rels map[string]byte) (int, string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, "", err
	}
	nameCol, kindCol := -1, -1
	for i, c := range cols {
		switch strings.ToLower(c) {
		case "name":
			nameCol = i
		case "kind":
			kindCol = i
		}
	}
	if nameCol < 0 {
		return 0, "", fmt.Errorf("SHOW TERSE OBJECTS returned no name column (columns %v)", cols)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n, last := 0, ""
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, "", err
		}
		n++
		last = vals[nameCol].String
		kind := byte('?')
		if kindCol >= 0 && vals[kindCol].String != "" {
			kind = vals[kindCol].String[0]
		}
		rels[last] = kind
	}
	return n, last, rows.Err()
}
