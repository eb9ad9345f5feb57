package admin

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// runEngine reports what the defer engine reports (the field names of /status's engine document).
type runEngine struct{ mode string }

func (e *runEngine) Status() any {
	return map[string]any{
		"production": map[string]any{"label": "Nightly run 70001", "run_id": "70001", "url": "https://cloud.getdbt.com/deploy/1/projects/2/runs/70001/",
			"finished_at": time.Now().Add(-30 * time.Hour), "generated_at": time.Now().Add(-30 * time.Hour), "stale": true,
			"project_name": "jaffle_shop", "nodes": 12, "dbt_version": "1.11.0", "invocation_id": "inv-1"},
		"production_source": map[string]any{"source": "dbt-cloud://1/9", "kind": "dbt-cloud", "last_check": time.Now(),
			"last_change": time.Now().Add(-time.Hour), "last_error": "list runs of dbt Cloud job 9: HTTP 502 Bad Gateway", "poll": "1m0s"},
		"warnings": []any{map[string]any{"kind": "snapshot_target_schema", "count": 2, "text": "2 snapshots have a target_schema deferproxy cannot evaluate",
			"nodes": []any{"snapshot.shop.a", "snapshot.shop.b"}}},
		"default_mode": e.mode, "statements": 10, "rewritten": 3, "deferrals": 4, "refused": 1,
		"sessions": []any{map[string]any{"id": 7, "user": "fabio", "application_name": "dbt", "mode": "defer", "dev_schema": "dev.dbt_fabio", "deferrals": 4}},
	}
}

func TestPageShowsRunSourcesSessions(t *testing.T) {
	eng := &runEngine{mode: "defer"}
	ts := newTestServer(t, Config{Version: "v1", Engine: eng, SetDefaultMode: func(m string) error { eng.mode = m; return nil }})
	code, page, h := get(t, ts.URL+"/")
	for _, w := range []string{
		`<a id="run-link" href="https://cloud.getdbt.com/deploy/1/projects/2/runs/70001/">Nightly run 70001</a>`,
		`<span class="badge warn">stale</span>`, `(30h0m ago)`,
		`<code>dbt-cloud://1/9</code> (dbt-cloud)`, `<span class="badge bad">failing</span> list runs of dbt Cloud job 9: HTTP 502`,
		`<td>7</td><td>fabio</td><td>dbt</td><td>defer</td>`, `<option value="defer" selected>defer</option>`,
		`<label for="default-mode">`, `refused 1`,
		`<h2 id="warnings-h">Warnings <span class="badge warn">1</span></h2>`,
		`<span class="badge warn">snapshot_target_schema · 2</span> 2 snapshots have a target_schema deferproxy cannot evaluate <span class="note">e.g. <code>snapshot.shop.a</code>, <code>snapshot.shop.b</code></span>`,
	} {
		if code != 200 || !strings.Contains(page, w) {
			t.Errorf("page lacks %q:\n%s", w, page)
		}
	}
	// Self-contained: its one script is its own (the nonce of the CSP), nothing is loaded from elsewhere, and it does
	// not refresh by itself.
	csp := h.Get("Content-Security-Policy")
	i := strings.Index(csp, "'nonce-")
	if i < 0 || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	n := csp[i+len("'nonce-"):]
	n = n[:strings.Index(n, "'")]
	if strings.Count(page, "<script") != 1 || !strings.Contains(page, `<script nonce="`+n+`">`) || strings.Contains(page, " src=") ||
		strings.Contains(page, "http-equiv=\"refresh\"") {
		t.Errorf("the page must be self-contained (one script, with the CSP nonce %q) and not refresh by itself", n)
	}
	if _, page2, h2 := get(t, ts.URL+"/"); h2.Get("Content-Security-Policy") == csp || page2 == "" {
		t.Error("the nonce does not change between responses")
	}
	// What the page's script sends: JSON, from its own origin.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/mode", strings.NewReader(`{"mode":"favor_state"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || eng.mode != "favor_state" {
		t.Fatalf("POST /mode from the page: %d, mode %s", resp.StatusCode, eng.mode)
	}
	if _, page, _ := get(t, ts.URL+"/"); !strings.Contains(page, `<option value="favor_state" selected>`) {
		t.Error("the page does not show the new mode")
	}
}

func TestExecRoutes(t *testing.T) {
	var got string
	ts := newTestServer(t, Config{Version: "v1",
		ExecReport: func(tag string) (any, bool) { return map[string]string{"tag": tag}, tag == "ab" },
		ExecDevManifest: func(tag string, body io.Reader) (string, error) {
			b, _ := io.ReadAll(body)
			if string(b) == "bad" {
				return "", errors.New("dev manifest: not JSON")
			}
			got = tag + ":" + string(b)
			return "dev manifest loaded", nil
		}})
	if code, body, _ := get(t, ts.URL+"/exec/ab"); code != 200 || !strings.Contains(body, `"tag":"ab"`) {
		t.Fatalf("GET /exec/ab: %d %s", code, body)
	}
	if code, _, _ := get(t, ts.URL+"/exec/zz"); code != 404 {
		t.Fatalf("GET /exec/zz: %d", code)
	}
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/exec/ab/manifest", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("{}"); code != 200 || got != "ab:{}" {
		t.Fatalf("PUT manifest: %d, got %q", code, got)
	}
	if code := put("bad"); code != http.StatusUnprocessableEntity {
		t.Fatalf("PUT a bad manifest: %d", code)
	}
}
