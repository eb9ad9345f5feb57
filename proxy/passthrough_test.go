package proxy_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

func TestSimpleAndExtended(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	conn := connect(t, tp.url("postgres", "", "", ""))
	var n int
	if err := conn.QueryRow(ctx, "select 41 + $1::int", 1).Scan(&n); err != nil || n != 42 {
		t.Fatalf("extended: %v %d", err, n)
	}
	var s string
	if err := conn.QueryRow(ctx, "select 'hello'", pgx.QueryExecModeSimpleProtocol).Scan(&s); err != nil || s != "hello" {
		t.Fatalf("simple: %v %q", err, s)
	}
	// Named prepared statement, used twice.
	if _, err := conn.Prepare(ctx, "twice", "select $1::int * 2"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int{3, 21} {
		if err := conn.QueryRow(ctx, "twice", v).Scan(&n); err != nil || n != 2*v {
			t.Fatalf("prepared: %v %d", err, n)
		}
	}
	// Several statements in one Query, and an error that keeps the session usable.
	if _, err := conn.Exec(ctx, "create temp table t(a int); insert into t values (1),(2)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "select * from no_such_table"); pgCode(err) != "42P01" {
		t.Fatalf("want 42P01, got %v", err)
	}
	if err := conn.QueryRow(ctx, "select sum(a) from t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("after error: %v %d", err, n)
	}
	// A result far bigger than the proxy's buffers.
	var total int64
	rows, err := conn.Query(ctx, "select repeat('x', 100000) from generate_series(1, 50)")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		total += int64(len(v))
	}
	if rows.Err() != nil || total != 5_000_000 {
		t.Fatalf("big rows: %v %d", rows.Err(), total)
	}
	// A big parameter (a message much bigger than the read buffer) in both directions.
	big := strings.Repeat("y", 3<<20)
	if err := conn.QueryRow(ctx, "select length($1::text)", big).Scan(&n); err != nil || n != len(big) {
		t.Fatalf("big param: %v %d", err, n)
	}
}

func TestBatchPipeline(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	conn := connect(t, tp.url("postgres", "", "", ""))
	b := &pgx.Batch{}
	for i := 0; i < 100; i++ {
		b.Queue("select $1::int + 1", i)
	}
	b.Queue("select 1/0")            // an error in the middle of the pipeline
	b.Queue("select $1::int", 12345) // skipped by the server after the error
	br := conn.SendBatch(ctx, b)
	for i := 0; i < 100; i++ {
		var n int
		if err := br.QueryRow().Scan(&n); err != nil || n != i+1 {
			t.Fatalf("batch %d: %v %d", i, err, n)
		}
	}
	var n int
	if err := br.QueryRow().Scan(&n); pgCode(err) != "22012" {
		t.Fatalf("want 22012 division_by_zero, got %v", err)
	}
	br.Close()
	if err := conn.QueryRow(ctx, "select 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after pipeline error: %v", err)
	}

	// Raw pipeline mode: many Parse/Bind/Execute before one Sync, with Flush.
	pc := conn.PgConn()
	p := pc.StartPipeline(ctx)
	p.SendPrepare("p1", "select $1::text || '!'", nil)
	p.SendQueryPrepared("p1", [][]byte{[]byte("a")}, nil, nil)
	p.SendQueryParams("select 2", nil, nil, nil, nil)
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		res, err := p.GetResults()
		if err != nil {
			t.Fatal(err)
		}
		if res == nil {
			break
		}
		switch r := res.(type) {
		case *pgconn.ResultReader:
			rr := r.Read()
			for _, row := range rr.Rows {
				got = append(got, string(row[0]))
			}
		case *pgconn.PipelineSync:
			got = append(got, "sync")
		}
		if _, ok := res.(*pgconn.PipelineSync); ok {
			break
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a!,2,sync" {
		t.Fatalf("pipeline results %v", got)
	}
}

func TestCopy(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	conn := connect(t, tp.url("postgres", "", "", ""))
	if _, err := conn.Exec(ctx, "create temp table cp(a int, b text)"); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, 20000)
	for i := range rows {
		rows[i] = []any{i, fmt.Sprintf("row %d", i)}
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"cp"}, []string{"a", "b"}, pgx.CopyFromRows(rows))
	if err != nil || n != 20000 {
		t.Fatalf("copy from: %v %d", err, n)
	}
	var sb strings.Builder
	tag, err := conn.PgConn().CopyTo(ctx, &sb, "copy (select a, b from cp order by a) to stdout")
	if err != nil || tag.RowsAffected() != 20000 {
		t.Fatalf("copy to: %v %v", err, tag)
	}
	if !strings.HasPrefix(sb.String(), "0\trow 0\n1\trow 1\n") {
		t.Fatalf("copy out: %q", sb.String()[:40])
	}
	// An error in the middle of COPY FROM STDIN (bad data) and in COPY TO (a failing expression).
	_, err = conn.PgConn().CopyFrom(ctx, strings.NewReader("1\tok\nnot-a-number\tbad\n"), "copy cp from stdin")
	if pgCode(err) != "22P02" {
		t.Fatalf("copy from bad data: want 22P02, got %v", err)
	}
	_, err = conn.PgConn().CopyTo(ctx, &sb, "copy (select 1/(a - 10000) from cp order by a) to stdout")
	if pgCode(err) != "22012" {
		t.Fatalf("copy to error: want 22012, got %v", err)
	}
	var cnt int
	if err := conn.QueryRow(ctx, "select count(*) from cp").Scan(&cnt); err != nil || cnt != 20000 {
		t.Fatalf("after copy errors: %v %d", err, cnt)
	}
}

func TestCancelReachesTheRightQuery(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	a := connect(t, tp.url("postgres", "", "", ""))
	b := connect(t, tp.url("postgres", "", "", ""))
	// The client sees the backend's real PID (what pg_backend_pid(), pg_stat_activity and notifications say); only
	// the secret is the proxy's.
	var backendPID uint32
	if err := a.QueryRow(ctx, "select pg_backend_pid()").Scan(&backendPID); err != nil {
		t.Fatal(err)
	}
	if a.PgConn().PID() != backendPID {
		t.Fatalf("client sees PID %d, its backend is %d", a.PgConn().PID(), backendPID)
	}
	bDone := make(chan error, 1)
	go func() {
		_, err := b.Exec(ctx, "select pg_sleep(3)")
		bDone <- err
	}()
	go func() {
		waitFor(t, "the query to start", func() bool { return activeQueries(t, c, "select pg_sleep(30)") == 1 })
		if err := a.PgConn().CancelRequest(ctx); err != nil {
			t.Errorf("cancel request: %v", err)
		}
	}()
	_, err := a.Exec(ctx, "select pg_sleep(30)")
	if pgCode(err) != "57014" {
		t.Fatalf("want 57014 query_canceled, got %v", err)
	}
	// The upstream backend is no longer running the statement.
	waitFor(t, "the cancelled query to stop", func() bool {
		return activeQueries(t, c, "select pg_sleep(30)") == 0
	})
	// b's query was not cancelled.
	if err := <-bDone; err != nil {
		t.Fatalf("the other session's query: %v", err)
	}
	if tp.srv.Stats().Cancels < 1 {
		t.Fatalf("stats: %+v", tp.srv.Stats())
	}
	// b goes on.
	if err := b.QueryRow(ctx, "select 1").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
}

// TestCancelWrongSecret: CancelRequests that name a session's real PID with any other secret cancel nothing.
func TestCancelWrongSecret(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	a := connect(t, tp.url("postgres", "", "", ""))
	// a waits for an advisory lock held by a direct connection, so its statement runs for as long as the test needs.
	holder := connect(t, c.URL("postgres", "", "postgres"))
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(808)"); err != nil {
		t.Fatal(err)
	}
	const waiting = "select pg_advisory_lock(808), 'wrong secret'"
	done := make(chan error, 1)
	go func() {
		_, err := a.Exec(ctx, waiting)
		done <- err
	}()
	waitFor(t, "the statement to wait for the lock", func() bool { return activeQueries(t, c, waiting) == 1 })
	before := tp.srv.Stats().Cancels
	pid := a.PgConn().PID()
	for i := 0; i < 2200; i++ {
		secret := make([]byte, 4)
		if _, err := rand.Read(secret); err != nil {
			t.Fatal(err)
		}
		if err := rawCancel(tp.addr, pid, secret); err != nil {
			t.Fatal(err)
		}
	}
	if got := tp.srv.Stats().Cancels; got != before {
		t.Fatalf("random secrets reached the upstream: %d cancels sent, want %d", got, before)
	}
	if n := activeQueries(t, c, waiting); n != 1 {
		t.Fatalf("the statement is no longer running (%d active)", n)
	}
	if _, err := holder.Exec(ctx, "select pg_advisory_unlock(808)"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the statement was disturbed: %v", err)
	}
}

// rawCancel sends one CancelRequest to addr and waits for the connection to close, as libpq's PQcancel does.
func rawCancel(addr string, pid uint32, secret []byte) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	req, err := (&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret}).Encode(nil)
	if err != nil {
		return err
	}
	if _, err := conn.Write(req); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, conn)
	return err
}

// activeQueries counts upstream backends running query (asked directly, not through the proxy).
func activeQueries(t testing.TB, c *pgtest.Cluster, query string) int {
	t.Helper()
	ctx := ctxT(t)
	conn, err := pgx.Connect(ctx, c.URL("postgres", "", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "select count(*) from pg_stat_activity where state = 'active' and query = $1", query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond for up to 30 s; it fails the test when cond never holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestListenNotify(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	l := connect(t, tp.url("postgres", "", "", ""))
	s := connect(t, tp.url("postgres", "", "", ""))
	if _, err := l.Exec(ctx, "listen chan1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Exec(ctx, "notify chan1, 'hi there'"); err != nil {
		t.Fatal(err)
	}
	n, err := l.WaitForNotification(ctx)
	if err != nil || n.Channel != "chan1" || n.Payload != "hi there" {
		t.Fatalf("notification %v %+v", err, n)
	}
	// The notifying session's PID, as the notification carries it, is the PID that session was given.
	if n.PID != s.PgConn().PID() {
		t.Fatalf("notification from PID %d, the notifying session's PID is %d", n.PID, s.PgConn().PID())
	}
	// Notice and ParameterStatus at any time.
	var notices []string
	cfg, _ := pgx.ParseConfig(tp.url("postgres", "", "", ""))
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices = append(notices, n.Message) }
	nc, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close(ctx)
	if _, err := nc.Exec(ctx, "do $$begin raise notice 'hello notice'; end$$"); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Exec(ctx, "set application_name = 'changed'"); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0] != "hello notice" || nc.PgConn().ParameterStatus("application_name") != "changed" {
		t.Fatalf("notices %v, application_name %q", notices, nc.PgConn().ParameterStatus("application_name"))
	}
}
