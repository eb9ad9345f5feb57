package catalog_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/internal/fakesnow"
)

// fakesnowDSN is a gosnowflake DSN for a fakesnow server, in database db.
func fakesnowDSN(t testing.TB, s *fakesnow.Server) string {
	t.Helper()
	dsn, err := sf.DSN(&sf.Config{Account: "x", User: "u", Password: "p", Database: "db", Host: s.Host, Port: s.Port,
		Protocol: "http", MaxRetryCount: 1, LoginTimeout: time.Minute, RequestTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

func fakesnowExec(t testing.TB, dsn string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("snowflake", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestSnowflakeDevCatalog lists dev schemas of a real fakesnow server with SHOW TERSE OBJECTS: tables and views
// exist under the names Snowflake stores (unquoted → upper case), a schema that does not exist is an empty dev
// schema (not an error), a listing is cached until DDL invalidates it, and the DSN's password never shows in an
// error.
func TestSnowflakeDevCatalog(t *testing.T) {
	fs := fakesnow.Start(t)
	dsn := fakesnowDSN(t, fs)
	fakesnowExec(t, dsn,
		"create schema if not exists db.dbt_dev",
		"create table db.dbt_dev.raw_customers (id int)",
		"create or replace view db.dbt_dev.stg_orders as (select 1 as id)",
	)
	c, err := catalog.NewSnowflakeDevCatalog(catalog.SnowflakeCatalogConfig{DSN: dsn, TTL: time.Hour, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	exists := func(db, schema, name string) bool {
		t.Helper()
		ok, err := c.Exists(ctx, catalog.Relation{Database: db, Schema: schema, Identifier: name})
		if err != nil {
			t.Fatalf("Exists %s.%s.%s: %v\n%s", db, schema, name, err, fs.Log())
		}
		return ok
	}
	for _, tc := range []struct {
		db, schema, name string
		want             bool
	}{
		{"DB", "DBT_DEV", "RAW_CUSTOMERS", true},
		{"DB", "DBT_DEV", "STG_ORDERS", true}, // a view
		{"DB", "DBT_DEV", "CUSTOMER_TOTALS", false},
		{"DB", "DBT_DEV", "raw_customers", false}, // a quoted lower-case name is another relation
		{"DB", "DBT_NOBODY", "RAW_CUSTOMERS", false},
	} {
		if got := exists(tc.db, tc.schema, tc.name); got != tc.want {
			t.Errorf("Exists(%s.%s.%s) = %v, want %v", tc.db, tc.schema, tc.name, got, tc.want)
		}
	}
	if st := c.Stats(); st.Queries != 2 {
		t.Errorf("%d SHOW queries for two schemas, want 2 (one listing per schema, cached)", st.Queries)
	}
	fakesnowExec(t, dsn, "create table db.dbt_dev.customer_totals (id int)")
	if exists("DB", "DBT_DEV", "CUSTOMER_TOTALS") {
		t.Error("a cached listing answered before its TTL; want the cached answer until invalidated")
	}
	c.Invalidate("DB", "DBT_DEV")
	if !exists("DB", "DBT_DEV", "CUSTOMER_TOTALS") {
		t.Error("after Invalidate the new table is not listed")
	}

	_, err = catalog.NewSnowflakeDevCatalog(catalog.SnowflakeCatalogConfig{DSN: "u:s3cret@@@/db?%zz"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a bad DSN: error %v (want one, without the password)", err)
	}
}
