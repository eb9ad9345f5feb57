package proxy_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Re-prepares in pipelines that run far ahead of their answers (pgx's batches and pipeline mode, pgjdbc's batches,
// libpq's pipeline mode). The proxy's re-prepare waits for the server's answer to its probe; these tests make sure
// that wait always ends, and that the client gets, byte for byte, what PostgreSQL gives a session whose statement
// already had the new text. Every read has a deadline: a stall fails the test instead of hanging it.

// stallDeadline bounds every exchange of these tests. It is not a timing assertion: each exchange takes milliseconds
// when it works, and without a deadline a stalled proxy would hang the test binary until go test's own timeout.
const stallDeadline = 30 * time.Second

// wireEncode encodes frontend messages as the client sends them.
func wireEncode(t testing.TB, msgs ...pgproto3.FrontendMessage) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// readAnswers reads raw backend messages from nc up to and including the syncs-th ReadyForQuery, or up to the first
// ErrorResponse when syncs is 0.
func readAnswers(nc net.Conn, syncs int) ([]byte, error) {
	var out []byte
	hdr := make([]byte, 5)
	for seen := 0; ; {
		if _, err := io.ReadFull(nc, hdr); err != nil {
			return out, err
		}
		n := int(binary.BigEndian.Uint32(hdr[1:]))
		msg := make([]byte, 1+n)
		copy(msg, hdr)
		if _, err := io.ReadFull(nc, msg[5:]); err != nil {
			return out, err
		}
		out = append(out, msg...)
		switch {
		case hdr[0] == 'Z':
			if seen++; seen == syncs {
				return out, nil
			}
		case hdr[0] == 'E' && syncs == 0:
			return out, nil
		}
	}
}

// summary renders raw backend messages as rawConn.until does: one letter per message, rows as D(first value), errors
// as E(code).
func summary(b []byte) string {
	var s strings.Builder
	for len(b) >= 5 {
		n := 1 + int(binary.BigEndian.Uint32(b[1:]))
		m := b[:n]
		b = b[n:]
		switch m[0] {
		case 'D':
			var d pgproto3.DataRow
			if d.Decode(m[5:]) == nil && len(d.Values) > 0 {
				s.WriteString("D(" + string(d.Values[0]) + ")")
				continue
			}
		case 'E':
			s.WriteString("E(" + errorCodeOf(m[5:]) + ")")
			continue
		case 'Z':
			s.WriteString("Z" + string(m[5:6]))
			continue
		case 'N', 'S':
			continue
		}
		s.WriteByte(m[0])
	}
	return s.String()
}

func errorCodeOf(body []byte) string {
	var e pgproto3.ErrorResponse
	if e.Decode(body) != nil {
		return "?"
	}
	return e.Code
}

// exchange writes msgs and reads the answers up to syncs ReadyForQuery (0: up to the first error), failing the test
// with what arrived when the answers stop coming.
func (rc *rawConn) exchange(step string, syncs int, msgs ...pgproto3.FrontendMessage) string {
	rc.t.Helper()
	_ = rc.nc.SetDeadline(time.Now().Add(stallDeadline))
	if _, err := rc.nc.Write(wireEncode(rc.t, msgs...)); err != nil {
		rc.t.Fatalf("%s: write: %v", step, err)
	}
	got, err := readAnswers(rc.nc, syncs)
	if err != nil {
		rc.t.Fatalf("%s: the answers stopped after %q: %v (a stalled re-prepare)", step, summary(got), err)
	}
	return summary(got)
}

// TestReprepareAfterAnsweredError: the server already answered an error of the segment (the client asked for it
// with a Flush, as pgx's SendFlushRequest and libpq's PQsendFlushRequest do, or it came back while the proxy was
// still reading a long pipeline) when a stale statement of the same segment is used. The server skips everything to
// the Sync, the proxy's re-prepare included, so the proxy must not wait for its answers. The same after a re-prepare
// that itself failed, with a second stale statement behind it.
func TestReprepareAfterAnsweredError(t *testing.T) {
	h, tp := switchProxy(t)
	rc := rawConnect(t, tp.addr)
	check := func(step, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: got %q, want %q", step, got, want)
		}
	}
	check("prepare", rc.exchange("prepare", 1,
		&pgproto3.Parse{Name: "s1", Query: "select v from the_rel where id >= $1 order by id", ParameterOIDs: []uint32{23}},
		&pgproto3.Parse{Name: "s2", Query: "select v from the_rel where id = $1", ParameterOIDs: []uint32{23}},
		&pgproto3.Sync{}), "11ZI")

	h.set("rp_b")
	check("an error, flushed", rc.exchange("an error, flushed", 0, &pgproto3.Parse{Query: "select 1/0"}, &pgproto3.Bind{},
		&pgproto3.Execute{}, &pgproto3.Flush{}), "1E(22012)")
	check("a stale statement after the answered error", rc.exchange("a stale statement after the answered error", 1,
		msgs(bindExec("", "s1", 0), sync1)...), "ZI")
	check("the next use re-prepares", rc.exchange("the next use", 1, msgs(bindExec("", "s1", 0), sync1)...),
		"2D(b)D(b2)CZI")

	// A re-prepare that fails (the new text's relation is missing) is the Bind's error; the second stale statement
	// of the segment is skipped by the server with the rest.
	h.set("rp_missing")
	check("two stale statements, the first fails", rc.exchange("two stale statements", 1,
		msgs(bindExec("", "s1", 0), bindExec("", "s2", 0), sync1)...), "E(42P01)ZI")
	h.set("rp_a")
	check("both recover", rc.exchange("both recover", 1, msgs(bindExec("", "s1", 0), bindExec("", "s2", 0), sync1)...),
		"2D(a)D(a2)C2D(a)CZI")

	// A changed row type (0A000) with a second stale statement behind it in the segment.
	h.set("rp_c")
	check("row type changed, then another stale statement", rc.exchange("0A000 then stale", 0,
		msgs(bindExec("", "s1", 0), []pgproto3.FrontendMessage{&pgproto3.Flush{}})...), "E(0A000)")
	check("the rest of the segment", rc.exchange("rest", 1, msgs(bindExec("", "s2", 0), sync1)...), "ZI")
	h.set("rp_b")
	check("after", rc.exchange("after", 1, msgs(bindExec("", "s1", 0), sync1)...), "2D(b)D(b2)CZI")
}

// farAheadPipeline is a pipeline written whole before any answer is read, as a client does that buffers its
// requests: stale statements first in a segment, far behind an error the server answered long before (the proxy
// reads it in 16 kB pieces, so the error is back before the stale Bind is read), and behind thousands of uses. Its
// answers stay under 64 000 bytes (pgjdbc's bound for what a client may leave unread while it writes), so it runs
// directly against PostgreSQL without the client reading; its requests are about 250 kB (answers about 35 kB).
func farAheadPipeline(t testing.TB) (pipeline []byte, syncs int) {
	use := func(stmt, param string) []pgproto3.FrontendMessage {
		return []pgproto3.FrontendMessage{
			&pgproto3.Bind{PreparedStatement: stmt, ParameterFormatCodes: []int16{0}, Parameters: [][]byte{[]byte(param)}},
			&pgproto3.Execute{},
		}
	}
	var m []pgproto3.FrontendMessage
	seg := func(parts ...[]pgproto3.FrontendMessage) {
		m = append(m, msgs(parts...)...)
		m = append(m, &pgproto3.Sync{})
		syncs++
	}
	many := func(n int, stmt, param string) []pgproto3.FrontendMessage {
		var out []pgproto3.FrontendMessage
		for i := 0; i < n; i++ {
			out = append(out, use(stmt, param)...)
		}
		return out
	}
	// 1: an error, 6,000 uses the server skips, then the stale s2: skipped too.
	seg([]pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select 1/0"}, &pgproto3.Bind{}, &pgproto3.Execute{}},
		many(6000, "s1", "1"), use("s2", "1"))
	// 2: the stale s1 first, then 600 uses that find no rows (an answer of 19 bytes each).
	seg(use("s1", "1"), many(600, "s1", "100"))
	// 3: 600 uses of s1, then s2 (still stale: its re-prepare was skipped), its description, 600 uses.
	seg(many(600, "s1", "100"), use("s2", "2"), []pgproto3.FrontendMessage{&pgproto3.Describe{ObjectType: 'S', Name: "s2"}},
		many(600, "s2", "100"))
	// 4: both again, in one segment.
	seg(use("s2", "1"), use("s1", "2"))
	return wireEncode(t, m...), syncs
}

// runFarAhead prepares s1 and s2 on conn with the texts given, writes the whole pipeline, and only then reads the
// answers.
func runFarAhead(t *testing.T, nc net.Conn, s1, s2 string, before func()) []byte {
	t.Helper()
	_ = nc.SetDeadline(time.Now().Add(stallDeadline))
	prep := wireEncode(t, &pgproto3.Parse{Name: "s1", Query: s1, ParameterOIDs: []uint32{23}},
		&pgproto3.Parse{Name: "s2", Query: s2, ParameterOIDs: []uint32{23}}, &pgproto3.Sync{})
	if _, err := nc.Write(prep); err != nil {
		t.Fatal(err)
	}
	if got, err := readAnswers(nc, 1); err != nil || summary(got) != "11ZI" {
		t.Fatalf("prepare: %q, %v", summary(got), err)
	}
	before()
	pipeline, syncs := farAheadPipeline(t)
	if _, err := nc.Write(pipeline); err != nil {
		t.Fatalf("writing the pipeline (%d bytes): %v (a stalled re-prepare)", len(pipeline), err)
	}
	got, err := readAnswers(nc, syncs)
	if err != nil {
		t.Fatalf("the answers stopped after %d bytes (%.200q…): %v (a stalled re-prepare)", len(got), summary(got), err)
	}
	return got
}

// TestReprepareFarAheadPipeline: a client writes a 250 kB pipeline with stale statements before reading anything.
// Through the proxy (statements prepared on rp_a, then the decision moved to rp_b) its answers are byte for byte
// those PostgreSQL gives a direct session whose statements were prepared on rp_b.
func TestReprepareFarAheadPipeline(t *testing.T) {
	h, tp := switchProxy(t)
	c := pgtest.Shared(t)
	const s1, s2 = "select v from %s where id >= $1 order by id", "select v from %s where id = $1"

	direct, err := net.Dial("tcp", c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	dc := &rawConn{t: t, nc: direct, fe: pgproto3.NewFrontend(direct, direct)}
	dc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "postgres", "database": "postgres"}})
	dc.flush()
	dc.until('Z')
	want := runFarAhead(t, direct, fmt.Sprintf(s1, "rp_b"), fmt.Sprintf(s2, "rp_b"), func() {})

	rc := rawConnect(t, tp.addr)
	got := runFarAhead(t, rc.nc, fmt.Sprintf(s1, "the_rel"), fmt.Sprintf(s2, "the_rel"), func() { h.set("rp_b") })
	if !bytes.Equal(got, want) {
		if os.Getenv("PROXY_TEST_LOG") != "" {
			t.Logf("direct: %s\nproxy:  %s", summary(want), summary(got))
		}
		t.Fatalf("through the proxy %d bytes of answers (%.300q…), directly %d (%.300q…)", len(got), summary(got),
			len(want), summary(want))
	}
	pipeline, _ := farAheadPipeline(t)
	t.Logf("a pipeline of %d bytes written before reading %d bytes of answers", len(pipeline), len(got))
	if s := summary(got); !strings.HasPrefix(s, "1E(22012)ZI2D(b)D(b2)C2C") || strings.Count(s, "Z") != 4 {
		t.Fatalf("unexpected answers: %.300q", s)
	}
}

// pipelineTranscript runs a pgx pipeline (pgconn.StartPipeline) with the prepared statement s1 used in the middle of
// it, then one whose error is flushed before s2 (not used before) is used in the same segment, and returns what pgx
// reported, in order.
func pipelineTranscript(t *testing.T, conn *pgconn.PgConn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stallDeadline)
	defer cancel()
	var out strings.Builder
	collect := func(p *pgconn.Pipeline, n int) {
		for i := 0; i < n; i++ {
			r, err := p.GetResults()
			if err != nil {
				fmt.Fprintf(&out, "err(%s) ", pgCodeOrErr(err))
				continue
			}
			switch r := r.(type) {
			case *pgconn.ResultReader:
				res := r.Read()
				if res.Err != nil {
					fmt.Fprintf(&out, "err(%s) ", pgCodeOrErr(res.Err))
					continue
				}
				fmt.Fprintf(&out, "%s:", res.CommandTag)
				for _, row := range res.Rows {
					out.Write(row[0])
					out.WriteByte(',')
				}
				out.WriteByte(' ')
			case *pgconn.PipelineSync:
				out.WriteString("sync ")
			case nil:
				out.WriteString("nil ")
			default:
				fmt.Fprintf(&out, "%T ", r)
			}
		}
	}
	p := conn.StartPipeline(ctx)
	p.SendQueryParams("select 'x'", nil, nil, nil, nil)
	p.SendQueryPrepared("s1", [][]byte{[]byte("1")}, nil, nil)
	p.SendQueryPrepared("s1", [][]byte{[]byte("2")}, nil, nil)
	p.SendPipelineSync()
	p.SendQueryPrepared("s1", [][]byte{[]byte("1")}, nil, nil)
	p.SendPipelineSync()
	if err := p.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	collect(p, 6)
	// An error the client reads before the rest of its segment is sent.
	p.SendQueryParams("select 1/0", nil, nil, nil, nil)
	p.SendFlushRequest()
	if err := p.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	collect(p, 1)
	p.SendQueryPrepared("s2", [][]byte{[]byte("1")}, nil, nil)
	p.SendPipelineSync()
	p.SendQueryPrepared("s2", [][]byte{[]byte("2")}, nil, nil)
	p.SendPipelineSync()
	if err := p.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	collect(p, 4)
	if err := p.Close(); err != nil {
		t.Fatalf("close the pipeline after %q: %v (a stalled re-prepare?)", out.String(), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the pipeline stalled after %q", out.String())
	}
	return out.String()
}

func pgCodeOrErr(err error) string {
	if c := pgCode(err); c != "" {
		return c
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

// TestRepreparePgxPipeline: pgx's pipeline mode with a stale statement in the middle of a pipeline, and after an
// error it has already read: what pgx reports through the proxy (statement prepared on rp_a, decision moved to rp_b)
// equals what it reports directly with the statement prepared on rp_b.
func TestRepreparePgxPipeline(t *testing.T) {
	h, tp := switchProxy(t)
	c := pgtest.Shared(t)
	ctx := ctxT(t)
	const sel = "select v from %s where id >= $1 order by id"
	run := func(url, rel string, before func()) string {
		conn, err := pgconn.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, name := range []string{"s1", "s2"} {
			if _, err := conn.Prepare(ctx, name, fmt.Sprintf(sel, rel), []uint32{23}); err != nil {
				t.Fatal(err)
			}
		}
		before()
		return pipelineTranscript(t, conn)
	}
	want := run(fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", c.Addr()), "rp_b", func() {})
	got := run(tp.url("postgres", "", "", ""), "the_rel", func() { h.set("rp_b") })
	if got != want {
		t.Fatalf("through the proxy:\n  %s\ndirectly:\n  %s", got, want)
	}
	if !strings.Contains(want, "SELECT 2:b,b2, SELECT 1:b2, sync SELECT 2:b,b2, sync err(22012)") {
		t.Fatalf("unexpected transcript %q", want)
	}
}

// TestReprepareBatch: a pgx batch (QueryExecModeCacheStatement: every query a Bind/Describe/Execute of the cached
// statement, one Sync at the end, written before the results are read) of 3,000 queries whose statement went stale
// before it: the first query re-prepares it, every result is the new relation's.
func TestReprepareBatch(t *testing.T) {
	h, tp := switchProxy(t)
	cfg, err := pgx.ParseConfig(tp.url("postgres", "", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	ctx, cancel := context.WithTimeout(context.Background(), stallDeadline)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	const q = "select v from the_rel where id = $1"
	var v string
	if err := conn.QueryRow(ctx, q, 1).Scan(&v); err != nil || v != "a" {
		t.Fatalf("prepare: %q, %v", v, err)
	}
	h.set("rp_b")
	const n = 3000
	b := &pgx.Batch{}
	for i := 0; i < n; i++ {
		b.Queue(q, 1+i%2)
	}
	br := conn.SendBatch(ctx, b)
	for i := 0; i < n; i++ {
		if err := br.QueryRow().Scan(&v); err != nil {
			t.Fatalf("query %d of the batch: %v (ctx: %v)", i, err, ctx.Err())
		}
		if want := []string{"b", "b2"}[i%2]; v != want {
			t.Fatalf("query %d of the batch read %q, want %q", i, v, want)
		}
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}
