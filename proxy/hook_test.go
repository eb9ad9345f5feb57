package proxy_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// testHook rewrites "select 1" to "select 2", adds a notice to statements mentioning notice_me, and refuses
// statements mentioning forbidden_table. It is a stand-in for the defer engine (tested on its own in deferral/).
type testHook struct {
	mu       sync.Mutex
	opened   []proxy.SessionInfo
	closed   int
	statuses []byte
	stmts    []string
}

const refusalMessage = `writing to production relation "analytics"."forbidden_table" is not allowed ('quoted' \backslash\ $deferproxy$ $$)`

func (h *testHook) OpenSession(_ context.Context, info proxy.SessionInfo) proxy.SessionHook {
	h.mu.Lock()
	h.opened = append(h.opened, info)
	h.mu.Unlock()
	return &testSession{h: h}
}

type testSession struct{ h *testHook }

func (s *testSession) Statement(_ context.Context, kind proxy.StatementKind, sql string) proxy.StatementResult {
	s.h.mu.Lock()
	s.h.stmts = append(s.h.stmts, sql)
	s.h.mu.Unlock()
	res := proxy.StatementResult{SQL: sql}
	if strings.Contains(sql, "hook_panics") {
		panic("test hook panics")
	}
	if strings.EqualFold(strings.TrimSpace(sql), "select 1") {
		res.SQL = "select 2"
	}
	if strings.Contains(sql, "notice_me") {
		res.Notices = append(res.Notices, &pgproto3.NoticeResponse{Severity: "NOTICE", Code: "00000", Message: "deferred 1 relation"})
	}
	if strings.Contains(sql, "forbidden_table") {
		res.Refuse = &pgproto3.ErrorResponse{Severity: "ERROR", Code: "42501", Message: refusalMessage,
			Detail: "detail with 'quotes'", Hint: "set allow_prod_writes: true"}
	}
	return res
}

func (s *testSession) ReadyForQuery(tx byte) {
	s.h.mu.Lock()
	s.h.statuses = append(s.h.statuses, tx)
	s.h.mu.Unlock()
}

func (s *testSession) Close() {
	s.h.mu.Lock()
	s.h.closed++
	s.h.mu.Unlock()
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var pe *pgconn.PgError
	if !errorAs(err, &pe) {
		t.Fatalf("want the refusal, got %v", err)
	}
	if pe.Code != "42501" || pe.Message != refusalMessage || pe.Detail != "detail with 'quotes'" ||
		pe.Hint != "set allow_prod_writes: true" || pe.Severity != "ERROR" || pe.Where != "" {
		t.Fatalf("refusal arrived as %+v", pe)
	}
}

func TestHook(t *testing.T) {
	c := pgtest.Shared(t)
	h := &testHook{}
	tp := startProxy(t, c, proxy.Config{Hook: h})
	modes := map[string]pgx.QueryExecMode{"simple": pgx.QueryExecModeSimpleProtocol, "extended": pgx.QueryExecModeExec,
		"prepared": pgx.QueryExecModeCacheStatement}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			var notices []string
			cfg, _ := pgx.ParseConfig(tp.url("postgres", "", "", "application_name=hooktest&sslmode=disable"))
			cfg.DefaultQueryExecMode = mode
			var nmu sync.Mutex
			cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
				nmu.Lock()
				notices = append(notices, n.Message)
				nmu.Unlock()
			}
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var n int
			if err := conn.QueryRow(ctx, "select 1").Scan(&n); err != nil || n != 2 {
				t.Fatalf("rewrite: %v %d", err, n)
			}
			if err := conn.QueryRow(ctx, "select 5 as notice_me").Scan(&n); err != nil || n != 5 {
				t.Fatalf("notice statement: %v %d", err, n)
			}
			nmu.Lock()
			got := strings.Join(notices, "|")
			nmu.Unlock()
			if got != "deferred 1 relation" {
				t.Fatalf("notices %q", got)
			}
			// Refused outside a transaction: the error, then the session goes on.
			_, err = conn.Exec(ctx, "insert into forbidden_table values (1)")
			checkRefusal(t, err)
			if err := conn.QueryRow(ctx, "select 3").Scan(&n); err != nil || n != 3 {
				t.Fatalf("after refusal: %v", err)
			}
			// Refused inside a transaction: the transaction is failed, as PostgreSQL would leave it.
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, "create temp table tt(a int)")
			if err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, "insert into forbidden_table select * from tt")
			checkRefusal(t, err)
			_, err = tx.Exec(ctx, "select 4")
			if pgCode(err) != "25P02" {
				t.Fatalf("after refusal in a transaction: want 25P02, got %v", err)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if conn.PgConn().TxStatus() != 'I' {
				t.Fatalf("tx status %q", conn.PgConn().TxStatus())
			}
			// In a pipeline: statements before the refusal run, the rest up to Sync is skipped.
			b := &pgx.Batch{}
			b.Queue("select 10")
			b.Queue("select * from forbidden_table")
			b.Queue("select 11")
			br := conn.SendBatch(ctx, b)
			err = br.QueryRow().Scan(&n)
			switch name {
			case "extended":
				if err != nil || n != 10 {
					t.Fatalf("batch first: %v %d", err, n)
				}
				checkRefusal(t, br.QueryRow().Scan(&n))
				if err := br.QueryRow().Scan(&n); err == nil {
					t.Fatal("the statement after the refusal ran")
				}
			default:
				// Simple protocol sends the batch as one Query, and the prepared mode prepares every statement
				// before running any: the refusal stops the whole batch.
				checkRefusal(t, err)
			}
			br.Close()
			if err := conn.QueryRow(ctx, "select 12").Scan(&n); err != nil || n != 12 {
				t.Fatalf("after refused batch: %v %d", err, n)
			}
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.opened) != 3 || h.opened[0].ApplicationName != "hooktest" || h.opened[0].User != "postgres" ||
		h.opened[0].Database != "postgres" {
		t.Fatalf("sessions opened: %+v", h.opened)
	}
	st := string(h.statuses)
	if !strings.Contains(st, "I") || !strings.Contains(st, "T") || !strings.Contains(st, "E") {
		t.Fatalf("ReadyForQuery statuses %q", st)
	}
}

// TestHookRefusedParse refuses a named Parse through the raw protocol, with a Describe and Sync behind it, and
// checks the exact message sequence the client gets: ErrorResponse then ReadyForQuery, nothing else.
func TestHookRefusedParse(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{Hook: &testHook{}})
	fe, _ := rawFrontend(t, tp.addr)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "postgres"}})
	_ = fe.Flush()
	receiveUntilReady(t, fe)
	fe.Send(&pgproto3.Parse{Name: "ok", Query: "select $1::int"})
	fe.Send(&pgproto3.Parse{Name: "bad", Query: "delete from forbidden_table"})
	fe.Send(&pgproto3.Describe{ObjectType: 'S', Name: "bad"})
	fe.Send(&pgproto3.Sync{})
	fe.Send(&pgproto3.Bind{PreparedStatement: "ok", Parameters: [][]byte{[]byte("7")}})
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	_ = fe.Flush()
	var got []string
	for len(got) < 20 {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.ParseComplete:
			got = append(got, "ParseComplete")
		case *pgproto3.BindComplete:
			got = append(got, "BindComplete")
		case *pgproto3.ErrorResponse:
			got = append(got, "Error "+m.Code)
		case *pgproto3.ReadyForQuery:
			got = append(got, "Ready "+string(m.TxStatus))
		case *pgproto3.DataRow:
			got = append(got, "DataRow "+string(m.Values[0]))
		case *pgproto3.CommandComplete:
			got = append(got, "Complete")
		default:
			got = append(got, "?")
		}
		if len(got) >= 2 && got[len(got)-1] == "Ready I" && strings.Count(strings.Join(got, ","), "Ready") == 2 {
			break
		}
	}
	want := "ParseComplete,Error 42501,Ready I,BindComplete,DataRow 7,Complete,Ready I"
	if strings.Join(got, ",") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, ","), want)
	}
}

// TestHookPanic: a panicking Hook ends its own session with XX000; the proxy and other sessions go on.
func TestHookPanic(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{Hook: &testHook{}})
	ctx := ctxT(t)
	other := connect(t, tp.url("postgres", "", "", ""))
	conn := connect(t, tp.url("postgres", "", "", ""))
	_, err := conn.Exec(ctx, "select 'hook_panics'")
	if err == nil {
		t.Fatal("statement ran although the Hook panicked")
	}
	if code := pgCode(err); code != "" && code != "XX000" {
		t.Fatalf("want XX000, got %v", err)
	}
	var n int
	if err := other.QueryRow(ctx, "select 1").Scan(&n); err != nil || n != 2 {
		t.Fatalf("other session: %v %d", err, n)
	}
	connect(t, tp.url("postgres", "", "", ""))
}
