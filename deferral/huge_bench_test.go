package deferral_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/engine"
)

// BenchmarkHookHugeStatement: what analysing one large deferred statement costs the engine (B/op against the
// statement's size, SetBytes), each iteration a new text (a different first literal), as a client sending big
// generated queries would. Issue 10 "Resources": over deferral.MaxAnalyzedText only the lexer reads the text.
func BenchmarkHookHugeStatement(b *testing.B) {
	for _, size := range []int{1<<20 - 64, 8 << 20} {
		b.Run(strconv.Itoa(size>>20)+"MiB", func(b *testing.B) {
			s := benchSession(b)
			ctx := context.Background()
			var sb strings.Builder
			sb.WriteString("SELECT src FROM dbt_fabio.stg_orders WHERE id IN (0")
			for i := 1; sb.Len() < size; i++ {
				sb.WriteString(", ")
				sb.WriteString(strconv.Itoa(i))
			}
			sb.WriteString(")")
			body := sb.String()[len("SELECT src FROM dbt_fabio.stg_orders WHERE id IN (0"):]
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sql := "SELECT src FROM dbt_fabio.stg_orders WHERE id IN (" + strconv.Itoa(-i-1) + body
				b.StartTimer()
				res := s.Statement(ctx, sql)
				b.StopTimer()
				if res.Refusal != nil {
					b.Fatal(res.Refusal.Message)
				}
			}
		})
	}
}

// hugeInList is "<head> IN (0, 1, 2, …)" of at least size bytes.
func hugeInList(head string, size int) string {
	var sb strings.Builder
	sb.WriteString(head + " IN (0")
	for i := 1; sb.Len() < size; i++ {
		sb.WriteString(", ")
		sb.WriteString(strconv.Itoa(i))
	}
	sb.WriteString(")")
	return sb.String()
}

// TestHugeStatement (issue 10, "Resources"): a statement over deferral.MaxAnalyzedText is read by the lexer alone —
// a read passes unchanged with a WARNING saying why, a write into production is refused, a write into dev passes —
// and analysing it allocates no more than about twice its size (runtime.MemStats, not a clock).
func TestHugeStatement(t *testing.T) {
	s := benchSession(t)
	ctx := context.Background()
	size := 4 * deferral.MaxAnalyzedText
	read := hugeInList("SELECT src FROM dbt_fabio.stg_orders WHERE id", size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := s.Statement(ctx, read)
	runtime.ReadMemStats(&after)
	if res.SQL != read || res.Refusal != nil || len(res.Messages) == 0 || !strings.Contains(res.Messages[0].Text, "over the") {
		t.Fatalf("a huge read: changed=%v refusal=%v messages=%v", res.SQL != read, res.Refusal, res.Messages)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(5*len(read)/2) {
		t.Errorf("a %d-byte statement allocated %d bytes (%.1f×): over the ~2× bound", len(read), alloc, float64(alloc)/float64(len(read)))
	} else {
		t.Logf("a %d-byte statement allocated %d bytes (%.2f×)", len(read), alloc, float64(alloc)/float64(len(read)))
	}
	for _, w := range []string{
		hugeInList("DELETE FROM analytics.orders WHERE id", size),
		hugeInList(`UPDATE "analytics".orders SET id = id WHERE id`, size),
	} {
		if res := s.Statement(ctx, w); res.Refusal == nil || res.Refusal.Code != "42501" {
			t.Errorf("a huge write into production: %+v", res.Refusal)
		}
	}
	dev := hugeInList("DELETE FROM dbt_fabio.stg_customers WHERE id", size)
	if res := s.Statement(ctx, dev); res.Refusal != nil || res.SQL != dev {
		t.Errorf("a huge write into dev: %+v", res.Refusal)
	}
	// Unqualified, with the search_path on production (issue 10 row 1, in a huge text).
	s.Statement(ctx, "SET search_path = analytics")
	s.Transaction(engine.TxIdle)
	if res := s.Statement(ctx, hugeInList("DELETE FROM orders WHERE id", size)); res.Refusal == nil {
		t.Error("a huge unqualified write with search_path = analytics was not refused")
	}
}
