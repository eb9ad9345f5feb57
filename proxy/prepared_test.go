package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// switchHook stands in for the defer engine's decisions over time: it rewrites the relation name "the_rel" to
// whatever target is set now, and its verdicts depend on a generation that each switch advances (like a dev
// catalog listing that changed).
type switchHook struct {
	mu      sync.Mutex
	target  string
	gen     uint64
	decided int // statements decided (Parse and re-decisions)
}

func (h *switchHook) set(target string) {
	h.mu.Lock()
	h.target, h.gen = target, h.gen+1
	h.mu.Unlock()
}

func (h *switchHook) OpenSession(context.Context, proxy.SessionInfo) proxy.SessionHook {
	return switchSession{h}
}

type switchSession struct{ h *switchHook }

func (s switchSession) Statement(_ context.Context, _ proxy.StatementKind, sql string) proxy.StatementResult {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.decided++
	return proxy.StatementResult{SQL: strings.ReplaceAll(sql, "the_rel", s.h.target),
		DependsOn: engine.Dependencies{Manifests: s.h.gen}}
}

func (s switchSession) Current(d engine.Dependencies) bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return d.Manifests == s.h.gen
}

func (switchSession) ReadyForQuery(byte) {}
func (switchSession) Close()             {}

// switchProxy is a proxy whose hook points "the_rel" at rp_a, over the relations of reprepareTables.
func switchProxy(t *testing.T) (*switchHook, *testProxy) {
	c := pgtest.Shared(t)
	reprepareTables(t, c)
	h := &switchHook{}
	h.set("rp_a")
	return h, startProxy(t, c, proxy.Config{Hook: h})
}

// reprepareTables creates the relations the switch hook points at: rp_a and rp_b of the same row type, rp_c of
// another.
func reprepareTables(t *testing.T, c *pgtest.Cluster) {
	c.Exec(t, "postgres", `drop table if exists rp_a, rp_b, rp_c;
		create table rp_a (id int, v text); insert into rp_a values (1, 'a'), (2, 'a2');
		create table rp_b (id int, v text); insert into rp_b values (1, 'b'), (2, 'b2');
		create table rp_c (id int, v int); insert into rp_c values (1, 42)`)
}

// TestReprepareFollowsDecision: a statement prepared once (pgx's statement cache: Parse once, then Bind/Execute)
// reads what a fresh statement would after the decision changes, in both directions; a changed row type is
// PostgreSQL's 0A000 (in a transaction, the transaction fails); a new text that does not parse is the Bind's error;
// and in each case the statement recovers when the decision comes back.
func TestReprepareFollowsDecision(t *testing.T) {
	h, tp := switchProxy(t)
	cfg, err := pgx.ParseConfig(tp.url("postgres", "", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	ctx := ctxT(t)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const q = "select v from the_rel where id = $1"
	read := func() (string, error) {
		var v string
		err := conn.QueryRow(ctx, q, 1).Scan(&v)
		return v, err
	}
	want := func(step, v string) {
		t.Helper()
		got, err := read()
		if err != nil || got != v {
			t.Fatalf("%s: read %q, %v; want %q", step, got, err, v)
		}
	}
	wantCode := func(step, code string, err error) {
		t.Helper()
		if pgCode(err) != code {
			t.Fatalf("%s: error %v, want SQLSTATE %s", step, err, code)
		}
	}
	want("prepared", "a")
	want("again", "a")
	h.set("rp_b")
	want("after the switch to rp_b", "b")
	want("again", "b")
	h.set("rp_a")
	want("after the switch back", "a")

	// A different row type: PostgreSQL's 0A000 (pgx then prepares the statement again, reading what a fresh
	// statement reads); in a transaction, the transaction fails.
	h.set("rp_c")
	_, err = read()
	wantCode("row type changed", "0A000", err)
	want("prepared again by the driver", "42")
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.set("rp_b")
	var v string
	wantCode("in a transaction", "0A000", tx.QueryRow(ctx, q, 1).Scan(&v))
	_, err = tx.Exec(ctx, "select 1")
	wantCode("the transaction failed", "25P02", err)
	_ = tx.Rollback(ctx)
	want("after the rollback", "b")

	// A new text that fails: the error at the Bind, the statement kept.
	h.set("rp_missing")
	_, err = read()
	wantCode("relation missing", "42P01", err)
	h.set("rp_a")
	want("relation back", "a")
	var n int
	if err := conn.QueryRow(ctx, "select 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("session after re-prepares: %d, %v", n, err)
	}
}

// rawConn is a protocol-level client for what drivers do not expose: pipelines across Syncs, named portals.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func rawConnect(t *testing.T, addr string) *rawConn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(60 * time.Second))
	rc := &rawConn{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
	rc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "postgres", "database": "postgres"}})
	rc.flush()
	rc.until('Z')
	return rc
}

func (rc *rawConn) flush() {
	if err := rc.fe.Flush(); err != nil {
		rc.t.Fatal(err)
	}
}

// until reads messages up to and including the first of type typ, and returns a summary: one letter per message,
// data rows as "D(value)" and errors as "E(code)".
func (rc *rawConn) until(typ byte) string {
	rc.t.Helper()
	var b strings.Builder
	for {
		m, err := rc.fe.Receive()
		if err != nil {
			if errors.Is(err, io.EOF) {
				rc.t.Fatalf("connection closed after %q", b.String())
			}
			rc.t.Fatalf("receive after %q: %v", b.String(), err)
		}
		var k byte
		switch m := m.(type) {
		case *pgproto3.DataRow:
			b.WriteString("D(" + string(m.Values[0]) + ")")
			continue
		case *pgproto3.ErrorResponse:
			b.WriteString("E(" + m.Code + ")")
			k = 'E'
		case *pgproto3.ReadyForQuery:
			b.WriteString("Z" + string(m.TxStatus))
			k = 'Z'
		case *pgproto3.ParseComplete:
			b.WriteString("1")
			k = '1'
		case *pgproto3.BindComplete:
			b.WriteString("2")
		case *pgproto3.CloseComplete:
			b.WriteString("3")
		case *pgproto3.CommandComplete:
			b.WriteString("C")
		case *pgproto3.PortalSuspended:
			b.WriteString("s")
		case *pgproto3.RowDescription:
			b.WriteString("T")
		case *pgproto3.ParameterDescription:
			b.WriteString("t")
		case *pgproto3.NoData:
			b.WriteString("n")
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
			continue
		default:
			b.WriteString("?")
		}
		if k == typ {
			return b.String()
		}
	}
}

// exec sends the messages and reads up to the last ReadyForQuery they cause.
func (rc *rawConn) exec(syncs int, msgs ...pgproto3.FrontendMessage) string {
	rc.t.Helper()
	for _, m := range msgs {
		rc.fe.Send(m)
	}
	rc.flush()
	var out []string
	for i := 0; i < syncs; i++ {
		out = append(out, rc.until('Z'))
	}
	return strings.Join(out, " ")
}

func bindExec(portal, stmt string, rows uint32) []pgproto3.FrontendMessage {
	return []pgproto3.FrontendMessage{
		&pgproto3.Bind{DestinationPortal: portal, PreparedStatement: stmt, Parameters: [][]byte{[]byte("1")}},
		&pgproto3.Execute{Portal: portal, MaxRows: rows},
	}
}

func msgs(parts ...[]pgproto3.FrontendMessage) []pgproto3.FrontendMessage {
	var out []pgproto3.FrontendMessage
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var sync1 = []pgproto3.FrontendMessage{&pgproto3.Sync{}}

// TestRepreparePipeline: re-prepares inside pipelines — several stale uses across Syncs, an error earlier in the
// segment (the server skips the re-prepare with the rest; the next use does it), a Describe of the statement, and a
// named portal left alone until it ends. The client's answers are exactly those of its own messages.
func TestRepreparePipeline(t *testing.T) {
	h, tp := switchProxy(t)
	rc := rawConnect(t, tp.addr)
	sel := "select v from the_rel where id >= $1 order by id"
	if got := rc.exec(1, &pgproto3.Parse{Name: "s1", Query: sel, ParameterOIDs: []uint32{23}}, &pgproto3.Sync{}); got != "1ZI" {
		t.Fatalf("parse: %q", got)
	}
	check := func(step, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: got %q, want %q", step, got, want)
		}
	}
	check("first use", rc.exec(1, msgs(bindExec("", "s1", 0), sync1)...), "2D(a)D(a2)CZI")

	h.set("rp_b")
	check("pipelined uses after the switch",
		rc.exec(2, msgs(bindExec("", "s1", 0), sync1, bindExec("", "s1", 0), sync1)...), "2D(b)D(b2)CZI 2D(b)D(b2)CZI")

	// An earlier message fails: the server skips everything to the Sync, the proxy's re-prepare included.
	h.set("rp_a")
	check("error before the re-prepare", rc.exec(2, msgs(
		[]pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select 1/0"}, &pgproto3.Bind{}, &pgproto3.Execute{}},
		bindExec("", "s1", 0), sync1, bindExec("", "s1", 0), sync1)...), "1E(22012)ZI 2D(a)D(a2)CZI")

	// Describe of the statement re-prepares too; the description is the statement's.
	h.set("rp_b")
	check("describe", rc.exec(1, msgs([]pgproto3.FrontendMessage{&pgproto3.Describe{ObjectType: 'S', Name: "s1"}},
		bindExec("", "s1", 0), sync1)...), "tT2D(b)D(b2)CZI")

	// A named portal open on the statement: left alone until the portal ends.
	check("open a portal", rc.exec(1, &pgproto3.Query{String: "begin"})+" "+
		rc.exec(1, msgs(bindExec("p1", "s1", 1), sync1)...), "CZT 2D(b)sZT")
	h.set("rp_a")
	check("while the portal is open", rc.exec(1, msgs(bindExec("p2", "s1", 0), sync1)...), "2D(b)D(b2)CZT")
	check("the portal still reads its rows", rc.exec(1, msgs([]pgproto3.FrontendMessage{&pgproto3.Execute{Portal: "p1"}}, sync1)...), "D(b2)CZT")
	check("close the portals", rc.exec(1, &pgproto3.Close{ObjectType: 'P', Name: "p1"}, &pgproto3.Close{ObjectType: 'P', Name: "p2"}, &pgproto3.Sync{}), "33ZT")
	check("after the portal ends", rc.exec(1, msgs(bindExec("", "s1", 0), sync1)...), "2D(a)D(a2)CZT")
	check("commit", rc.exec(1, &pgproto3.Query{String: "commit"}), "CZI")

	// A different row type: 0A000 at every Bind while that decision stands (the statement is kept as it was), a
	// Describe still answers; the statement works again when the decision comes back.
	h.set("rp_c")
	check("row type changed", rc.exec(1, msgs(bindExec("", "s1", 0), sync1)...), "E(0A000)ZI")
	check("row type changed, again", rc.exec(1, msgs(bindExec("", "s1", 0), sync1)...), "E(0A000)ZI")
	check("describe while changed", rc.exec(1, &pgproto3.Describe{ObjectType: 'S', Name: "s1"}, &pgproto3.Sync{}), "tTZI")
	h.set("rp_b")
	check("row type back", rc.exec(1, msgs(bindExec("", "s1", 0), sync1)...), "2D(b)D(b2)CZI")

	// Closed by the client: forgotten; the name can be prepared again with another text.
	check("close and prepare again", rc.exec(1, &pgproto3.Close{ObjectType: 'S', Name: "s1"},
		&pgproto3.Parse{Name: "s1", Query: "select v from rp_b where id = $1", ParameterOIDs: []uint32{23}}, &pgproto3.Sync{}), "31ZI")
	h.set("rp_a")
	check("the new statement is not re-decided", rc.exec(1, msgs(bindExec("", "s1", 0), sync1)...), "2D(b)CZI")
}

// TestReprepareUnchangedText: a decision that is no longer current but gives the same text costs no re-prepare
// (the statement is decided again, nothing is sent).
func TestReprepareUnchangedText(t *testing.T) {
	h, tp := switchProxy(t)
	rc := rawConnect(t, tp.addr)
	if got := rc.exec(1, &pgproto3.Parse{Name: "s", Query: "select v from the_rel where id = $1"}, &pgproto3.Sync{}); got != "1ZI" {
		t.Fatalf("parse: %q", got)
	}
	h.set("rp_a") // a new generation, the same decision
	h.mu.Lock()
	before := h.decided
	h.mu.Unlock()
	if got := rc.exec(1, msgs(bindExec("", "s", 0), sync1)...); got != "2D(a)CZI" {
		t.Fatalf("use: %q", got)
	}
	if got := rc.exec(1, msgs(bindExec("", "s", 0), sync1)...); got != "2D(a)CZI" {
		t.Fatalf("use: %q", got)
	}
	h.mu.Lock()
	after := h.decided
	h.mu.Unlock()
	if after != before+1 {
		t.Fatalf("decided %d times after the generation changed, want once", after-before)
	}
}
