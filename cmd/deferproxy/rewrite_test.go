package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/internal/corpus"
)

// corpusManifest is a real dbt-generated manifest (dbt 1.11, PostgreSQL): production lives in "p"."public".
func corpusManifest(t *testing.T) string {
	return corpus.Path(t, "dbt/altered_jaffle_shop/target/manifest.json")
}

// runRewriteCmd runs `deferproxy rewrite args…` with stdin and returns stdout, stderr and the error.
func runRewriteCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	if c, _, err := root.Find([]string{"rewrite"}); err != nil || c == root {
		root.AddCommand(newRewriteCmd()) // until the root registers it itself
	}
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	err := execute(context.Background(), root, append([]string{"rewrite"}, args...))
	return out.String(), errb.String(), err
}

func TestRewriteCommand(t *testing.T) {
	m := corpusManifest(t)
	sql := `/* {"app": "dbt", "node_id": "model.altered_jaffle_shop.customers"} */
select * from "p"."dbt_fabio"."stg_customers" c
join dbt_fabio.stg_orders o on o.customer_id = c.customer_id
left join dbt_fabio.customers x using (customer_id)`
	out, errOut, err := runRewriteCmd(t, sql, "--manifest", m, "--dev-schema", "dbt_fabio", "--exists", "dbt_fabio.stg_orders")
	if err != nil {
		t.Fatalf("rewrite: %v\n%s", err, errOut)
	}
	// stg_customers is missing in dev → production, 3 parts kept; stg_orders exists → kept; customers is the
	// executing node → kept.
	want := strings.Replace(sql, `"p"."dbt_fabio"."stg_customers"`, `p.public.stg_customers`, 1)
	if out != want+"\n" {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	for _, s := range []string{"defer", "exists in dev", "model.altered_jaffle_shop.customers"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr explanation lacks %q:\n%s", s, errOut)
		}
	}

	// --explain json: every reference with its role, action and reason.
	out, _, err = runRewriteCmd(t, sql, "--manifest", m, "--dev-schema", "dbt_fabio", "--exists", "dbt_fabio.stg_orders", "--explain", "json")
	if err != nil {
		t.Fatal(err)
	}
	var x deferral.Explanation
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(x.References) != 3 {
		t.Fatalf("references: %+v", x.References)
	}
	actions := []string{x.References[0].Action, x.References[1].Action, x.References[2].Action}
	if strings.Join(actions, ",") != "defer,keep,keep" {
		t.Errorf("actions = %v", actions)
	}
	for _, r := range x.References {
		if r.Role != "read" || r.Reason == "" {
			t.Errorf("reference %+v", r)
		}
	}

	// favor_state: an existing, unselected node defers too.
	out, _, err = runRewriteCmd(t, "select * from dbt_fabio.stg_orders", "--manifest", m, "--dev-schema", "dbt_fabio",
		"--exists", "dbt_fabio.stg_orders", "--mode", "favor_state")
	if err != nil || out != "select * from public.stg_orders\n" {
		t.Fatalf("favor_state: %q %v", out, err)
	}
	// Ephemeral models and unknown names stay.
	out, _, err = runRewriteCmd(t, "select * from dbt_fabio.ephemeral_customers, dbt_fabio.nothing", "--manifest", m, "--dev-schema", "dbt_fabio")
	if err != nil || out != "select * from dbt_fabio.ephemeral_customers, dbt_fabio.nothing\n" {
		t.Fatalf("ephemeral/unknown: %q %v", out, err)
	}
}

func TestRewriteCommandWriteGuard(t *testing.T) {
	m := corpusManifest(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "q.sql")
	os.WriteFile(f, []byte("insert into public.orders select * from dbt_fabio.orders"), 0o644)
	_, errOut, err := runRewriteCmd(t, "", "--manifest", m, "--dev-schema", "dbt_fabio", f)
	if err == nil || !strings.Contains(errOut, "42501") || !strings.Contains(errOut, "allow") {
		t.Fatalf("write guard: err %v\n%s", err, errOut)
	}
	out, _, err := runRewriteCmd(t, "", "--manifest", m, "--dev-schema", "dbt_fabio", "--allow-prod-writes", f)
	if err != nil || out != "insert into public.orders select * from public.orders\n" {
		t.Fatalf("allowed: %q %v", out, err)
	}
}

func TestRewriteCommandUsage(t *testing.T) {
	m := corpusManifest(t)
	for _, args := range [][]string{
		{"--dev-schema", "x"},
		{"--manifest", m},
		{"--manifest", m, "--dev-schema", "x", "--explain", "yaml"},
		{"--manifest", m, "--dev-schema", "x", "--exists", "a.b.c.d"},
		{"--manifest", m, "--dev-schema", "x", "--mode", "sideways"},
		{"--manifest", filepath.Join(t.TempDir(), "missing.json"), "--dev-schema", "x"},
	} {
		if _, _, err := runRewriteCmd(t, "select 1", args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
