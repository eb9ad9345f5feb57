package rewrite

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v5"
	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time of the calling OS thread (C code of pg_query included). On a shared machine wall time
// per op measures the run queue as much as the code; benchmarks lock their goroutine to one thread and also
// report thread CPU time per op (cpu-ns/op), the steadier figure.
func threadCPU(b *testing.B) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// cpuMeter reports thread CPU time per op for a benchmark loop.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) *cpuMeter {
	runtime.LockOSThread()
	return &cpuMeter{b: b, start: threadCPU(b)}
}

func (m *cpuMeter) stop() {
	m.b.ReportMetric(float64(threadCPU(m.b)-m.start)/float64(m.b.N), "cpu-ns/op")
	runtime.UnlockOSThread()
}

// stripeModels returns the compiled SQL of every model in the Fivetran Stripe manifest of the corpus (real dbt
// output, relations named "postgres"."public_stripe_dev"."…"), in a fixed order.
func stripeModels(tb testing.TB) []string {
	tb.Helper()
	path := filepath.Join(corpusDir(tb), "dbt", "stripe", "docs", "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	var m struct {
		Nodes map[string]struct {
			ResourceType string `json:"resource_type"`
			CompiledCode string `json:"compiled_code"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	var ids []string
	for id, n := range m.Nodes {
		if n.ResourceType == "model" && n.CompiledCode != "" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = m.Nodes[id].CompiledCode
	}
	if len(out) == 0 {
		tb.Fatalf("no compiled models in %s", path)
	}
	return out
}

// pgbenchStatements are the statements of pgbench's built-in TPC-B-like script, as a client sends them.
var pgbenchStatements = []string{
	"UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 56789;",
	"SELECT abalance FROM pgbench_accounts WHERE aid = 56789;",
	"UPDATE pgbench_tellers SET tbalance = tbalance + -1234 WHERE tid = 7;",
	"UPDATE pgbench_branches SET bbalance = bbalance + -1234 WHERE bid = 1;",
	"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 56789, -1234, CURRENT_TIMESTAMP);",
	"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
}

// devStripe resolves the stripe models' dev schema to a production schema.
type devStripe struct{}

func (devStripe) Resolve(ref Reference) ([]string, bool) {
	n := ref.Normalized
	if len(n) < 2 || n[len(n)-2] != "public_stripe_dev" {
		return nil, false
	}
	out := append([]string(nil), n...)
	out[len(out)-2] = "public_stripe"
	return out, true
}

func benchSets(b *testing.B) map[string][]string {
	return map[string][]string{"stripe": stripeModels(b), "pgbench": pgbenchStatements}
}

func bytesOf(set []string) int64 {
	n := 0
	for _, s := range set {
		n += len(s)
	}
	return int64(n / len(set))
}

// BenchmarkPrefilterMiss: a 1 KB statement (the first KiB of real dbt SQL) that names none of the schemas.
func BenchmarkPrefilterMiss(b *testing.B) {
	sql := strings.Join(stripeModels(b), "\n")[:1024]
	p := NewPrefilter([]string{"dbt_fabio", "analytics", "snapshots"})
	if p.Match(sql) {
		b.Fatal("test statement matches")
	}
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	m := startCPU(b)
	for b.Loop() {
		if p.Match(sql) {
			b.Fatal("match")
		}
	}
	m.stop()
}

func BenchmarkPrefilterMissPgbench(b *testing.B) {
	p := NewPrefilter([]string{"dbt_fabio", "analytics", "snapshots"})
	b.ReportAllocs()
	m := startCPU(b)
	i := 0
	for b.Loop() {
		if p.Match(pgbenchStatements[i%len(pgbenchStatements)]) {
			b.Fatal("match")
		}
		i++
	}
	m.stop()
}

func BenchmarkCacheHit(b *testing.B) {
	for name, set := range benchSets(b) {
		b.Run(name, func(b *testing.B) {
			c := NewCache(1000)
			for _, s := range set {
				if _, err := c.Analyze(s); err != nil {
					b.Fatal(err)
				}
			}
			analyzeLoop(b, c, set)
		})
	}
}

// analyzeLoop is the measured part of the cache benchmarks: Cache.Analyze of each text in turn.
func analyzeLoop(b *testing.B, c *Cache, texts []string) {
	b.SetBytes(bytesOf(texts))
	b.ReportAllocs()
	m := startCPU(b)
	i := 0
	for b.Loop() {
		if _, err := c.Analyze(texts[i%len(texts)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	m.stop()
}

// BenchmarkCacheShapeHit: statements that differ from a cached one only in their literal values (a client that
// inlines its parameters, pgbench -M simple): the cost of finding the shape and moving the analysis's offsets.
func BenchmarkCacheShapeHit(b *testing.B) {
	for name, set := range benchSets(b) {
		b.Run(name, func(b *testing.B) {
			c := NewCache(1000)
			var variants []string
			for _, s := range set {
				if _, err := c.Analyze(s); err != nil {
					b.Fatal(err)
				}
				if _, lits, ok := literalShape(s); ok {
					variants = append(variants, varyLiterals(s, lits))
				}
			}
			if len(variants) == 0 {
				b.Skip("no statement of the set has literals")
			}
			before := c.Stats().ShapeHits
			analyzeLoop(b, c, variants)
			if c.Stats().ShapeHits == before {
				b.Fatal("no shape hit")
			}
		})
	}
}

// BenchmarkCacheHitRewrite: a cached analysis plus asking the resolver and editing the text (the per-statement
// cost of a repeated statement that defers).
func BenchmarkCacheHitRewrite(b *testing.B) {
	set := stripeModels(b)
	c := NewCache(1000)
	for _, s := range set {
		c.Analyze(s)
	}
	b.SetBytes(bytesOf(set))
	b.ReportAllocs()
	m := startCPU(b)
	i := 0
	for b.Loop() {
		s := set[i%len(set)]
		a, _ := c.Analyze(s)
		if _, err := Rewrite(s, a, devStripe{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	m.stop()
}

// BenchmarkParse is the baseline: pg_query.Parse alone.
func BenchmarkParse(b *testing.B) {
	for name, set := range benchSets(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(bytesOf(set))
			b.ReportAllocs()
			m := startCPU(b)
			i := 0
			for b.Loop() {
				if _, err := pg_query.Parse(set[i%len(set)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			m.stop()
		})
	}
}

func BenchmarkAnalyze(b *testing.B) {
	for name, set := range benchSets(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(bytesOf(set))
			b.ReportAllocs()
			m := startCPU(b)
			i := 0
			for b.Loop() {
				if _, err := Analyze(set[i%len(set)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			m.stop()
		})
	}
}

func BenchmarkAnalyzeRewrite(b *testing.B) {
	for name, set := range benchSets(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(bytesOf(set))
			b.ReportAllocs()
			m := startCPU(b)
			i := 0
			for b.Loop() {
				if _, err := RewriteSQL(set[i%len(set)], devStripe{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			m.stop()
		})
	}
}

// BenchmarkWalk is the cost Analyze adds to pg_query.Parse: the tree walk and span scans on an already parsed tree.
func BenchmarkWalk(b *testing.B) {
	for name, set := range benchSets(b) {
		b.Run(name, func(b *testing.B) {
			trees := make([]*pg_query.ParseResult, len(set))
			for i, s := range set {
				t, err := pg_query.Parse(s)
				if err != nil {
					b.Fatal(err)
				}
				trees[i] = t
			}
			b.SetBytes(bytesOf(set))
			b.ReportAllocs()
			m := startCPU(b)
			i := 0
			for b.Loop() {
				analyzeTree(set[i%len(set)], trees[i%len(set)])
				i++
			}
			m.stop()
		})
	}
}

// BenchmarkColdRewriteVsParse interleaves bare pg_query.Parse and Analyze+Rewrite of the same statement and
// reports their thread-CPU time ratio, so load from other processes affects neither side (target ≤ 1.2).
func BenchmarkColdRewriteVsParse(b *testing.B) {
	for name, set := range benchSets(b) {
		b.Run(name, func(b *testing.B) {
			var parse, rewrite time.Duration
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			i := 0
			for b.Loop() {
				s := set[i%len(set)]
				t0 := threadCPU(b)
				if _, err := pg_query.Parse(s); err != nil {
					b.Fatal(err)
				}
				t1 := threadCPU(b)
				if _, err := RewriteSQL(s, devStripe{}); err != nil {
					b.Fatal(err)
				}
				t2 := threadCPU(b)
				parse += t1 - t0
				rewrite += t2 - t1
				i++
			}
			b.ReportMetric(float64(parse.Nanoseconds())/float64(b.N), "parse-cpu-ns/op")
			b.ReportMetric(float64(rewrite.Nanoseconds())/float64(b.N), "rewrite-cpu-ns/op")
			b.ReportMetric(float64(rewrite)/float64(parse), "rewrite/parse")
		})
	}
}
