package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

func TestUpstreamRestart(t *testing.T) {
	ctx := ctxT(t)
	c, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatalf("private cluster: %v", err)
	}
	defer c.Stop()
	tp := startProxy(t, c, proxy.Config{})
	conn := connect(t, tp.url("postgres", "", "", ""))
	if err := conn.QueryRow(ctx, "select 1").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	// The old session gets a clean server error (PostgreSQL's 57P01, or the proxy's 08006), not a hang.
	_, err = conn.Exec(ctx, "select 1")
	var pe *pgconn.PgError
	if err == nil {
		t.Fatal("query on a session whose upstream restarted succeeded")
	}
	if errors.As(err, &pe) && pe.Code != "57P01" && pe.Code != "08006" {
		t.Fatalf("unexpected error after restart: %v", err)
	}
	t.Logf("old session after restart: %v", err)
	// New sessions work.
	conn2 := connect(t, tp.url("postgres", "", "", ""))
	if err := conn2.QueryRow(ctx, "select 2").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the old session to end", func() bool { return tp.srv.Stats().Active == 1 })
}

// TestUpstreamDiesMidQuery: the upstream goes away while a query runs; the client gets an error, the proxy stays up.
func TestUpstreamDiesMidQuery(t *testing.T) {
	ctx := ctxT(t)
	c, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatalf("private cluster: %v", err)
	}
	defer c.Stop()
	tp := startProxy(t, c, proxy.Config{})
	conn := connect(t, tp.url("postgres", "", "", ""))
	var pid int
	if err := conn.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := conn.Exec(ctx, "select pg_sleep(60)"); errc <- err }()
	waitFor(t, "the query to start", func() bool { return activeQueries(t, c, "select pg_sleep(60)") == 1 })
	c.Exec(t, "postgres", fmt.Sprintf("select pg_terminate_backend(%d)", pid))
	err = <-errc
	if code := pgCode(err); code != "57P01" && code != "08006" {
		t.Fatalf("want 57P01 from the server or 08006 from the proxy, got %v", err)
	}
	conn2 := connect(t, tp.url("postgres", "", "", ""))
	if err := conn2.QueryRow(ctx, "select 1").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
}

// TestClientVanishesMidQuery: the client disappears while its query runs; the proxy cancels the query upstream and
// every goroutine of the session ends.
func TestClientVanishesMidQuery(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{Hook: &testHook{}})
	// Warm up, so lazily started runtime goroutines do not count.
	connect(t, tp.url("postgres", "", "", "")).Close(context.Background())
	waitFor(t, "warm-up session to end", func() bool { return tp.srv.Stats().Active == 0 })
	base := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		fe, conn := rawFrontend(t, tp.addr)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "postgres"}})
		_ = fe.Flush()
		receiveUntilReady(t, fe)
		q := fmt.Sprintf("select pg_sleep(120) /* vanish %d */", i)
		if i == 1 { // extended protocol too
			fe.Send(&pgproto3.Parse{Query: q})
			fe.Send(&pgproto3.Bind{})
			fe.Send(&pgproto3.Execute{})
			fe.Send(&pgproto3.Sync{})
		} else {
			fe.Send(&pgproto3.Query{String: q})
		}
		_ = fe.Flush()
		waitFor(t, "the query to start", func() bool { return activeQueries(t, c, q) == 1 })
		conn.Close()
		waitFor(t, "the query to be cancelled", func() bool { return activeQueries(t, c, q) == 0 })
	}
	waitFor(t, "sessions to end", func() bool { return tp.srv.Stats().Active == 0 })
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}

func TestConcurrentSessions(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	ctx := ctxT(t)
	const n = 500
	conns := make([]*pgconn.PgConn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			pc, err := pgconn.Connect(ctx, tp.url("postgres", "", "", ""))
			<-sem
			if err != nil {
				errs <- err
				return
			}
			conns[i] = pc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("connect: %v", err)
	}
	if got := tp.srv.Stats().Active; got != n {
		t.Fatalf("active sessions %d, want %d", got, n)
	}
	// All 500 sessions query at once, each getting its own answer.
	var qwg sync.WaitGroup
	qerrs := make(chan error, n)
	for i, pc := range conns {
		qwg.Add(1)
		go func() {
			defer qwg.Done()
			res, err := pc.Exec(ctx, fmt.Sprintf("select %d, pg_backend_pid()", i)).ReadAll()
			if err != nil {
				qerrs <- err
				return
			}
			if got := string(res[0].Rows[0][0]); got != fmt.Sprint(i) {
				qerrs <- fmt.Errorf("session %d got %s", i, got)
			}
		}()
	}
	qwg.Wait()
	close(qerrs)
	for err := range qerrs {
		t.Fatal(err)
	}
	for _, pc := range conns {
		pc.Close(ctx)
	}
	waitFor(t, "sessions to end", func() bool { return tp.srv.Stats().Active == 0 })
}

func TestLimits(t *testing.T) {
	c := pgtest.Shared(t)
	ctx := ctxT(t)
	t.Run("oversized message", func(t *testing.T) {
		tp := startProxy(t, c, proxy.Config{MaxMessageSize: 1 << 20})
		other := connect(t, tp.url("postgres", "", "", ""))
		conn := connect(t, tp.url("postgres", "", "", ""))
		_, err := conn.Exec(ctx, "select $1::text", strings.Repeat("x", 2<<20))
		if pgCode(err) != "08P01" {
			t.Fatalf("want 08P01, got %v", err)
		}
		if err := other.QueryRow(ctx, "select 1").Scan(new(int)); err != nil {
			t.Fatalf("other session: %v", err)
		}
		connect(t, tp.url("postgres", "", "", ""))
	})
	t.Run("malformed message", func(t *testing.T) {
		tp := startProxy(t, c, proxy.Config{})
		other := connect(t, tp.url("postgres", "", "", ""))
		fe, conn := rawFrontend(t, tp.addr)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "postgres"}})
		_ = fe.Flush()
		receiveUntilReady(t, fe)
		_, _ = conn.Write([]byte{'Q', 0, 0, 0, 2})
		m, err := fe.Receive()
		if e, ok := m.(*pgproto3.ErrorResponse); err != nil || !ok || e.Code != "08P01" || e.Severity != "FATAL" {
			t.Fatalf("malformed: %v %#v", err, m)
		}
		if err := other.QueryRow(ctx, "select 1").Scan(new(int)); err != nil {
			t.Fatalf("other session: %v", err)
		}
	})
	t.Run("max client conns", func(t *testing.T) {
		tp := startProxy(t, c, proxy.Config{MaxClientConns: 2})
		connect(t, tp.url("postgres", "", "", ""))
		connect(t, tp.url("postgres", "", "", ""))
		_, err := pgxConnect(tp.url("postgres", "", "", ""))
		if pgCode(err) != "53300" {
			t.Fatalf("want 53300, got %v", err)
		}
		waitFor(t, "the refused session to end", func() bool { return tp.srv.Stats().Active == 2 })
		if st := tp.srv.Stats(); st.Rejected != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("unauthenticated sockets cannot crowd out clients", func(t *testing.T) {
		// Issue 10: sockets that connect and say nothing held client slots for the whole handshake_timeout. Now they
		// count against max_unauthenticated only (the oldest is closed past it) and take no client slot.
		tp := startProxy(t, c, proxy.Config{MaxClientConns: 2, MaxUnauthenticated: 5})
		var idle []net.Conn
		for range 30 {
			conn, err := net.Dial("tcp", tp.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			idle = append(idle, conn)
		}
		waitFor(t, "the oldest idle sockets to be closed", func() bool {
			st := tp.srv.Stats()
			return st.Evicted+st.Rejected >= 25 && st.Unauthenticated <= 5 && st.Evicted > 0
		})
		_ = idle[0].SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := idle[0].Read(make([]byte, 1)); err == nil {
			t.Fatal("the oldest idle socket is still open")
		}
		connect(t, tp.url("postgres", "", "", ""))
		connect(t, tp.url("postgres", "", "", ""))
		_, err := pgxConnect(tp.url("postgres", "", "", ""))
		if pgCode(err) != "53300" {
			t.Fatalf("a third client past max_client_conns 2: want 53300, got %v", err)
		}
		if st := tp.srv.Stats(); st.Unauthenticated > 5 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		tp := startProxy(t, c, proxy.Config{IdleTimeout: 300 * time.Millisecond})
		conn := connect(t, tp.url("postgres", "", "", ""))
		// A statement longer than the idle timeout is not idleness.
		if _, err := conn.Exec(ctx, "select pg_sleep(0.6)"); err != nil {
			t.Fatalf("long statement: %v", err)
		}
		waitFor(t, "the idle session to be closed", func() bool { return tp.srv.Stats().Active == 0 })
		_, err := conn.Exec(ctx, "select 1")
		if err == nil {
			t.Fatal("idle session still usable")
		}
	})
	t.Run("handshake timeout", func(t *testing.T) {
		tp := startProxy(t, c, proxy.Config{HandshakeTimeout: 200 * time.Millisecond})
		_, conn := rawFrontend(t, tp.addr)
		_, _ = conn.Write([]byte{0, 0}) // half a length, then nothing
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatal("connection stayed open")
		}
		waitFor(t, "the handshake to be abandoned", func() bool { return tp.srv.Stats().Active == 0 })
	})
}

func TestGracefulShutdown(t *testing.T) {
	c := pgtest.Shared(t)
	ctx := ctxT(t)
	tp := startProxy(t, c, proxy.Config{})
	conn := connect(t, tp.url("postgres", "", "", ""))
	gone := connect(t, tp.url("postgres", "", "", ""))
	gone.Close(ctx)
	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := tp.srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a session left: %v", err)
	}
	_, err := conn.Exec(ctx, "select 1")
	t.Logf("session after Shutdown: %v", err)
	if pgCode(err) != "57P01" && !isClosedErr(err) {
		t.Fatalf("want 57P01, got %v", err)
	}
	if _, err := pgxConnect(tp.url("postgres", "", "", "")); err == nil {
		t.Fatal("connected after Shutdown")
	}
	// A Shutdown with no sessions returns at once.
	tp2 := startProxy(t, c, proxy.Config{})
	connect(t, tp2.url("postgres", "", "", "")).Close(ctx)
	if err := tp2.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// isClosedErr: pgx may report the FATAL it read before the close, or only the close.
func isClosedErr(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "57P01") || strings.Contains(err.Error(), "closed"))
}

var _ = pgx.Identifier{}
