package tally

import (
	"context"
	"testing"

	"github.com/deferproxy/deferproxy/engine"
)

type fakeEngine struct{}

func (fakeEngine) OpenSession(context.Context, engine.SessionInfo) engine.Session {
	return fakeSession{}
}

type fakeSession struct{}

func (fakeSession) Statement(_ context.Context, sql string) engine.Verdict {
	switch sql {
	case "read":
		return engine.Verdict{SQL: "rewritten", Deferrals: []engine.Deferral{{From: "dbt_fabio.orders", To: "analytics.orders", Node: "model.shop.orders"}}}
	case "warn":
		return engine.Verdict{SQL: sql, Messages: []engine.Message{{Severity: engine.Notice, Text: "a notice"},
			{Severity: engine.Warning, Text: "deferproxy: dbt listed dev schema dbt_fabio without orders"}}}
	case "write":
		return engine.Verdict{SQL: sql, Refusal: &engine.Refusal{Code: "42501", Message: "deferproxy refuses to write into production relation analytics.orders"}}
	}
	return engine.Verdict{SQL: sql}
}
func (fakeSession) Transaction(engine.TxState) {}
func (fakeSession) Close()                     {}
func (fakeSession) Parameter(string, string)   {}

func TestTallyByTag(t *testing.T) {
	tl := New(fakeEngine{}, func(info engine.SessionInfo) string { return info.Params["tag"] })
	ctx := context.Background()
	a1 := tl.OpenSession(ctx, engine.SessionInfo{Params: map[string]string{"tag": "a"}})
	a2 := tl.OpenSession(ctx, engine.SessionInfo{Params: map[string]string{"tag": "a"}})
	b := tl.OpenSession(ctx, engine.SessionInfo{Params: map[string]string{"tag": "b"}})
	untagged := tl.OpenSession(ctx, engine.SessionInfo{Params: map[string]string{}})
	if _, wrapped := untagged.(*session); wrapped {
		t.Fatal("an untagged session must not be wrapped")
	}
	for _, sql := range []string{"read", "select 1", "read"} {
		a1.Statement(ctx, sql)
	}
	a2.Statement(ctx, "write")
	a1.Statement(ctx, "warn")
	a2.Statement(ctx, "warn")
	b.Statement(ctx, "select 1")
	untagged.Statement(ctx, "read")
	r, ok := tl.Report("a")
	if len(r.Warnings) != 1 || r.Warnings[0] != "deferproxy: dbt listed dev schema dbt_fabio without orders" {
		t.Errorf("warnings of a: %q (want the one warning, once, and no notice)", r.Warnings)
	}
	if !ok || r.Sessions != 2 || r.Statements != 6 || len(r.Deferrals) != 1 || r.Deferrals[0].Count != 2 ||
		r.Deferrals[0].Node != "model.shop.orders" || len(r.Refusals) != 1 || r.Refusals[0].Code != "42501" {
		t.Fatalf("report a: %+v", r)
	}
	if r, _ := tl.Report("b"); r.Sessions != 1 || len(r.Deferrals) != 0 || r.Statements != 1 {
		t.Fatalf("report b: %+v", r)
	}
	if _, ok := tl.Report("c"); ok {
		t.Fatal("unknown tag reported")
	}
}

type trackingEngine struct{ got *string }

func (e trackingEngine) OpenSession(context.Context, engine.SessionInfo) engine.Session {
	return trackingSession{e.got}
}

type trackingSession struct{ got *string }

func (trackingSession) Statement(_ context.Context, sql string) engine.Verdict {
	return engine.Verdict{SQL: sql}
}
func (trackingSession) Transaction(engine.TxState)        {}
func (trackingSession) Parameter(string, string)          {}
func (trackingSession) Close()                            {}
func (s trackingSession) CurrentSchema(db, schema string) { *s.got = db + "." + schema }

// TestCurrentSchemaPassedOn: a tagged session still tells the engine the warehouse's current schema.
func TestCurrentSchemaPassedOn(t *testing.T) {
	var got string
	tl := New(trackingEngine{&got}, func(engine.SessionInfo) string { return "tag" })
	s := tl.OpenSession(context.Background(), engine.SessionInfo{})
	st, ok := s.(interface{ CurrentSchema(string, string) })
	if !ok {
		t.Fatal("the tally's session hides CurrentSchema")
	}
	st.CurrentSchema("DB", "DBT_ME")
	if got != "DB.DBT_ME" {
		t.Errorf("engine got %q", got)
	}
}
