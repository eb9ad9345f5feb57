package deferral_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// benchSession opens an engine session over the real dev catalog of a fresh database (no proxy: the hook cost
// alone).
func benchSession(b testing.TB) engine.Session {
	b.Helper()
	c := pgtest.Shared(b)
	db := c.NewDatabase(b)
	c.Exec(b, db, setupSQL)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	eng, err := deferral.New(ctx, deferral.Config{
		Manifest:       writeManifest(b, db, time.Now()),
		DevSchema:      "dbt_fabio",
		CatalogDSN:     c.URL(pgtest.SuperUser, "", db),
		CatalogTTL:     time.Hour, // warm for the whole benchmark
		CatalogTimeout: 10 * time.Second,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return eng.OpenSession(ctx, engine.SessionInfo{ID: 1, User: "postgres", Database: db, Params: map[string]string{}})
}

func benchStatement(b *testing.B, sql string, wantChanged bool) {
	s := benchSession(b)
	ctx := context.Background()
	res := s.Statement(ctx, sql) // warm: analysis cached, dev catalog listed
	if changed := res.SQL != sql; changed != wantChanged || res.Refusal != nil {
		b.Fatalf("warm-up: changed=%v refuse=%v: %s", changed, res.Refusal, res.SQL)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(sql)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Statement(ctx, sql)
	}
}

// BenchmarkHookPrefilterMiss: a pgbench-style statement that names no dev or production schema.
func BenchmarkHookPrefilterMiss(b *testing.B) {
	benchStatement(b, "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;", false)
}

// BenchmarkHookPrefilterMiss1KB: a 1 KB statement that names no schema that matters.
func BenchmarkHookPrefilterMiss1KB(b *testing.B) {
	sql := "SELECT " + strings.Repeat("coalesce(a.col, b.col) AS c, ", 32) + "1 FROM public.t a JOIN public.u b USING (id)"
	benchStatement(b, sql[:min(len(sql), 1024)], false)
}

// BenchmarkHookDeferredWarm: a statement whose one reference defers (analysis cached, dev catalog warm).
func BenchmarkHookDeferredWarm(b *testing.B) {
	benchStatement(b, "SELECT src FROM dbt_fabio.stg_orders WHERE id = 1", true)
}

// BenchmarkHookExistingWarm: names the dev schema, but the dev relation exists: analysed and decided, not rewritten.
func BenchmarkHookExistingWarm(b *testing.B) {
	benchStatement(b, "SELECT src FROM dbt_fabio.stg_customers WHERE id = 1", false)
}

// BenchmarkHookDbtModelWarm: a dbt-shaped CTAS with a query comment and three refs, two deferred.
func BenchmarkHookDbtModelWarm(b *testing.B) {
	benchStatement(b, `/* {"app": "dbt", "dbt_version": "1.11.2", "profile_name": "p", "target_name": "dev", "node_id": "model.shop.customers"} */
  create  table "dbt_fabio"."customers__dbt_tmp" as (
with orders as (select * from "dbt_fabio"."orders"), customers as (select * from "dbt_fabio"."stg_customers"),
payments as (select * from "dbt_fabio"."stg_payments")
select c.id, count(o.id) from customers c left join orders o using (id) left join payments p using (id) group by 1
  );`, true)
}

// BenchmarkHookDeferredLiterals: a deferred statement whose literal changes every time (pgbench -M simple, a client
// that inlines its parameters): no memo hit, the analysis comes from the literal shape, the decision is made anew.
func BenchmarkHookDeferredLiterals(b *testing.B) {
	s := benchSession(b)
	ctx := context.Background()
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = "SELECT src FROM dbt_fabio.stg_orders WHERE id = " + strconv.Itoa(i*7919%100000)
	}
	if res := s.Statement(ctx, texts[0]); res.SQL == texts[0] {
		b.Fatalf("warm-up: not rewritten: %s", res.SQL)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Statement(ctx, texts[i%len(texts)])
	}
}
