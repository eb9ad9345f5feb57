package proxy_test

import (
	"context"
	"net"
	"reflect"
	"testing"

	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeEngine answers every statement with the verdict it holds and records the transaction states it is told.
type fakeEngine struct {
	info    engine.SessionInfo
	verdict engine.Verdict
	states  []engine.TxState
	closed  bool
}

func (f *fakeEngine) OpenSession(_ context.Context, info engine.SessionInfo) engine.Session {
	f.info = info
	return f
}
func (f *fakeEngine) Statement(context.Context, string) engine.Verdict { return f.verdict }
func (f *fakeEngine) Transaction(s engine.TxState)                     { f.states = append(f.states, s) }
func (f *fakeEngine) Close()                                           { f.closed = true }
func (f *fakeEngine) Parameter(string, string)                         {}

// TestEngineHookMapsVerdicts: the engine's protocol-neutral verdict becomes PostgreSQL's messages.
func TestEngineHookMapsVerdicts(t *testing.T) {
	ctx := context.Background()
	f := &fakeEngine{}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5432}
	info := proxy.SessionInfo{ID: 3, User: "fabio", Database: "dev", ApplicationName: "dbt", Params: map[string]string{"user": "fabio"}, RemoteAddr: addr}
	s := proxy.EngineHook(f).OpenSession(ctx, info)
	if f.info.ID != 3 || f.info.User != "fabio" || f.info.Database != "dev" || f.info.ApplicationName != "dbt" ||
		f.info.Params["user"] != "fabio" || f.info.RemoteAddr != addr {
		t.Fatalf("session info = %+v", f.info)
	}

	for _, tc := range []struct {
		name    string
		verdict engine.Verdict
		want    proxy.StatementResult
	}{
		{"unchanged", engine.Verdict{SQL: "select 1"}, proxy.StatementResult{SQL: "select 1"}},
		{"messages", engine.Verdict{SQL: "select 2", Messages: []engine.Message{
			{Severity: engine.Notice, Text: "deferred 1 relation", Detail: "production manifest m.json"},
			{Severity: engine.Warning, Text: "stale"},
		}}, proxy.StatementResult{SQL: "select 2", Notices: []*pgproto3.NoticeResponse{
			{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "00000", Message: "deferred 1 relation", Detail: "production manifest m.json"},
			{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "01000", Message: "stale"},
		}}},
		{"refusal", engine.Verdict{SQL: "insert", Refusal: &engine.Refusal{Code: "42501", Message: "no", Detail: "d", Hint: "h"}},
			proxy.StatementResult{SQL: "insert", Refuse: &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR",
				Code: "42501", Message: "no", Detail: "d", Hint: "h"}}},
	} {
		f.verdict = tc.verdict
		got := s.Statement(ctx, proxy.SimpleQuery, "x")
		if got.SQL != tc.want.SQL || len(got.Notices) != len(tc.want.Notices) || (got.Refuse == nil) != (tc.want.Refuse == nil) {
			t.Fatalf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
		for i, n := range got.Notices {
			if !reflect.DeepEqual(n, tc.want.Notices[i]) {
				t.Errorf("%s: notice %d = %+v, want %+v", tc.name, i, *n, *tc.want.Notices[i])
			}
		}
		if got.Refuse != nil && !reflect.DeepEqual(got.Refuse, tc.want.Refuse) {
			t.Errorf("%s: refusal = %+v, want %+v", tc.name, *got.Refuse, *tc.want.Refuse)
		}
	}

	for _, b := range []byte{'I', 'T', 'E', 'I'} {
		s.ReadyForQuery(b)
	}
	if want := []engine.TxState{engine.TxIdle, engine.TxInBlock, engine.TxFailed, engine.TxIdle}; len(f.states) != len(want) ||
		f.states[0] != want[0] || f.states[1] != want[1] || f.states[2] != want[2] || f.states[3] != want[3] {
		t.Errorf("transaction states = %v, want %v", f.states, want)
	}
	s.Close()
	if !f.closed {
		t.Error("Close not passed on")
	}
}
