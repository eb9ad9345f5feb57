package rewrite

import (
	"syscall"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v5"
)

// The lexer is on the hot path of every Snowflake query and of every PostgreSQL statement pg_query cannot parse.
// Benchmarks (recorded in docs/BENCHMARKS.md):
//
//	go test -p 1 -run '^$' -bench 'LexAnalyze' -benchmem ./rewrite/

// processCPU is the CPU time this process has used. On a shared, loaded machine wall-clock ns/op measures the
// queue as much as the code; the CPU time per op (reported as cpu-ns/op) is the steadier figure.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchLex(b *testing.B, texts []string, d Dialect) {
	total := 0
	for _, s := range texts {
		total += len(s)
	}
	b.SetBytes(int64(total / len(texts)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		LexAnalyze(texts[i%len(texts)], d)
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

func stripeSQL(b *testing.B) []string {
	var out []string
	for _, x := range lexStripeTexts(b) {
		out = append(out, x.sql)
	}
	return out
}

// BenchmarkLexAnalyze: one op is one compiled stripe model (88 texts, 2.1 KB on average) or one one-liner.
func BenchmarkLexAnalyze(b *testing.B) {
	stripe := stripeSQL(b)
	b.Run("stripe_compiled", func(b *testing.B) { benchLex(b, stripe, Postgres) })
	b.Run("stripe_compiled_snowflake_rules", func(b *testing.B) { benchLex(b, stripe, Snowflake) })
	b.Run("pgbench_select", func(b *testing.B) {
		benchLex(b, []string{`SELECT abalance FROM public.pgbench_accounts WHERE aid = $1`}, Postgres)
	})
	b.Run("pgbench_update", func(b *testing.B) {
		benchLex(b, []string{`UPDATE public.pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2`}, Postgres)
	})
	b.Run("snowflake_ctas", func(b *testing.B) {
		benchLex(b, []string{`create or replace transient table ANALYTICS.DBT_FABIO.orders as (select o.*, p.amount from ANALYTICS.DBT_FABIO.stg_orders o left join ANALYTICS.DBT_FABIO.stg_payments p on o.id = p.order_id) /* {"app": "dbt", "node_id": "model.shop.orders"} */`}, Snowflake)
	})
}

// BenchmarkLexAnalyzeVsParse is the bare pg_query.Parse of the same stripe texts, for scale.
func BenchmarkLexAnalyzeVsParse(b *testing.B) {
	stripe := stripeSQL(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := pg_query.Parse(stripe[i%len(stripe)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}
