package deferral_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A statement sent again is answered from the session's memo: same rewrite, a notice every time (the manifest
// detail only the first time), counted as a memo hit.
func TestMemoRepeatedStatement(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	const q = "select src from dbt_fabio.stg_orders where id = $1"
	before := e.eng.Status().MemoHits
	for i := 0; i < 5; i++ {
		if got := queryString(t, c, q, 1); got != "prod" {
			t.Fatalf("run %d: got %q, want prod", i, got)
		}
		ns := c.takeNotices()
		n := findNotice(ns, "NOTICE", "deferred 1 relation")
		if n == nil {
			t.Fatalf("run %d: no deferral notice; got %+v", i, ns)
		}
		if (n.Detail != "") != (i == 0) {
			t.Errorf("run %d: detail %q (only the session's first notice names the production run)", i, n.Detail)
		}
	}
	st := e.eng.Status()
	if hits := st.MemoHits - before; hits < 4 {
		t.Errorf("memo hits = %d after 5 identical statements, want at least 4", hits)
	}
	if st.Deferrals < 5 || st.Rewritten < 5 {
		t.Errorf("counters must count replayed statements too: %+v", st)
	}
}

// The memo never answers after what it was drawn from changed: DDL through the proxy, a change made elsewhere once
// the dev catalog's TTL has passed, the session's mode and its search_path.
func TestMemoFollowsChanges(t *testing.T) {
	e := newEnv(t, envOptions{catalogTTL: 300 * time.Millisecond})
	c := e.connect(t, nil)
	other := e.connect(t, nil)
	const q = "select src from dbt_fabio.stg_payments"
	for i := 0; i < 3; i++ {
		if got := queryString(t, c, q); got != "prod" {
			t.Fatalf("before: %q", got)
		}
	}
	// DDL through the proxy (another session): the listing is invalidated at commit.
	exec(t, other, "create table dbt_fabio.stg_payments as select 1 as id, 'dev'::text as src")
	if got := queryString(t, c, q); got != "dev" {
		t.Fatalf("after CREATE through the proxy: %q, want dev", got)
	}
	// A change made directly on the server is seen once the TTL has passed, memo or not.
	e.c.Exec(t, e.db, "DROP TABLE dbt_fabio.stg_payments")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got string
		err := c.QueryRow(context.Background(), q).Scan(&got)
		if err == nil && got == "prod" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a drop made elsewhere was never seen: last answer %q, %v", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Mode: off forwards unchanged (the dev relation does not exist).
	exec(t, c, "SET deferproxy.mode = 'off'")
	if _, err := c.Exec(context.Background(), q); pgCode(err) != "42P01" {
		t.Fatalf("mode off: want 42P01 from the server, got %v", err)
	}
	exec(t, c, "RESET deferproxy.mode")
	if got := queryString(t, c, q); got != "prod" {
		t.Fatalf("mode reset: %q", got)
	}
	// search_path: the same unqualified text resolves elsewhere.
	const uq = "select src from stg_orders"
	exec(t, c, "SET search_path = dbt_fabio")
	for i := 0; i < 2; i++ {
		if got := queryString(t, c, uq); got != "prod" {
			t.Fatalf("unqualified via search_path: %q", got)
		}
	}
	exec(t, c, "SET search_path = public")
	if _, err := c.Exec(context.Background(), uq); pgCode(err) != "42P01" {
		t.Fatalf("search_path public: want 42P01, got %v", err)
	}
}

// A client that inlines its values sends a new text every time: the analysis comes from the literal shape (no
// parse), and the statement is still decided and rewritten on its own.
func TestShapeThroughProxy(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect(t, nil)
	before := e.eng.Status()
	for i := 1; i <= 5; i++ {
		var src string
		sql := "select src from dbt_fabio.stg_orders where id = " + strconv.Itoa(i*100) + " or id = 1"
		if err := c.QueryRow(context.Background(), sql, pgx.QueryExecModeSimpleProtocol).Scan(&src); err != nil || src != "prod" {
			t.Fatalf("%s: %q, %v", sql, src, err)
		}
	}
	st := e.eng.Status()
	if st.AnalysisShapeHits-before.AnalysisShapeHits < 4 || st.Parses-before.Parses > 1 {
		t.Errorf("5 texts of one shape: %d shape hits, %d parses; want >= 4 and <= 1",
			st.AnalysisShapeHits-before.AnalysisShapeHits, st.Parses-before.Parses)
	}
	if st.Rewritten-before.Rewritten != 5 {
		t.Errorf("rewritten %d of 5", st.Rewritten-before.Rewritten)
	}
}

// A production manifest reload is a new target state: the memo does not replay the old run's notice.
func TestMemoFollowsManifestReload(t *testing.T) {
	e := newEnv(t, envOptions{notices: "all"})
	c := e.connect(t, nil)
	const q = "select src from dbt_fabio.stg_orders"
	for i := 0; i < 2; i++ {
		if got := queryString(t, c, q); got != "prod" {
			t.Fatalf("before reload: %q", got)
		}
	}
	if n := findNotice(c.takeNotices(), "NOTICE", "deferred 1 relation"); n == nil || !strings.Contains(n.Message, "4f1c2a9e") {
		t.Fatalf("before reload: notice %+v", n)
	}
	path := e.eng.Status().Production.Source
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := strings.ReplaceAll(string(b), "4f1c2a9e-0000-4000-8000-prod00000001", "5b5b5b5b-0000-4000-8000-prod00000002")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.eng.Status().Production.InvocationID != "5b5b5b5b-0000-4000-8000-prod00000002" {
		if time.Now().After(deadline) {
			t.Fatalf("the rewritten manifest was never loaded: %+v", e.eng.Status().Production)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := queryString(t, c, q); got != "prod" {
		t.Fatalf("after reload: %q", got)
	}
	if n := findNotice(c.takeNotices(), "NOTICE", "deferred 1 relation"); n == nil || !strings.Contains(n.Message, "5b5b5b5b") {
		t.Fatalf("after reload the notice must name the new run: %+v", n)
	}
}
