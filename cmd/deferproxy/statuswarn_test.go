package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/tally"
)

// TestStatusPrintsWarnings: `deferproxy status` shows each engine warning with its kind, count and a few nodes.
func TestStatusPrintsWarnings(t *testing.T) {
	var out strings.Builder
	printStatus(&out, statusDoc{Engine: &deferral.Status{Mapping: "derived: …", Warnings: []deferral.Warning{
		{Kind: "snapshot_target_schema", Count: 2, Text: "2 snapshots have a target_schema deferproxy cannot evaluate",
			Nodes: []string{"snapshot.p.a", "snapshot.p.b"}},
		{Kind: "get_relation", Count: 3, Text: "3 times a dbt invocation listed a dev schema"},
	}}})
	for _, w := range []string{
		"WARNING        snapshot_target_schema (2): 2 snapshots have a target_schema deferproxy cannot evaluate\n" +
			"               e.g. snapshot.p.a, snapshot.p.b\n",
		"WARNING        get_relation (3): 3 times a dbt invocation listed a dev schema\n",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("status lacks %q:\n%s", w, out.String())
		}
	}
}

// TestExecSummaryPrintsWarnings: the exec summary prints the WARNINGs the proxy sent the command's sessions, which dbt
// itself never shows.
func TestExecSummaryPrintsWarnings(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exec/t1":
			_ = json.NewEncoder(w).Encode(tally.Report{Tag: "t1", Sessions: 2, Statements: 9,
				Deferrals: []tally.Deferral{{From: "dbt_dev.stg_payments", To: "analytics.stg_payments", Count: 2}},
				Warnings:  []string{"deferproxy: this dbt invocation listed dev schema dbt_dev, which lacks stg_payments"}})
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()
	var out strings.Builder
	printExecSummary(context.Background(), &out, adminClient{addr: strings.TrimPrefix(srv.URL, "http://")}, "t1")
	want := "deferproxy: 1 warning (dbt does not print the proxy's warnings):\n" +
		"  WARNING deferproxy: this dbt invocation listed dev schema dbt_dev, which lacks stg_payments\n"
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "dbt_dev.stg_payments → analytics.stg_payments") {
		t.Errorf("summary lacks the warning:\n%s", out.String())
	}
}
