package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The vendor APIs cannot be reached from the tests: these servers stand in for them, serving the response shapes
// their documentation gives (dbt Cloud Administrative API v2: runs list and run artifacts; Paradime's Bolt GraphQL
// API as its Python SDK calls it), and checking the requests the way the real APIs filter them.

type cloudRun struct {
	id, job, env int64
	jobName      string
	jobType      string // "scheduled", "ci"
	status       int
	finished     string
	manifest     []byte // nil: the run wrote no manifest.json (404)
}

type dbtCloudStub struct {
	t         *testing.T
	mu        sync.Mutex
	runs      []cloudRun // newest first, as order_by=-finished_at asks
	down      bool
	truncate  bool
	artifacts atomic.Int64
}

func (d *dbtCloudStub) add(r cloudRun) {
	d.mu.Lock()
	d.runs = append([]cloudRun{r}, d.runs...)
	d.mu.Unlock()
}
func (d *dbtCloudStub) set(down, truncate bool) {
	d.mu.Lock()
	d.down, d.truncate = down, truncate
	d.mu.Unlock()
}

func (d *dbtCloudStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Header.Get("Authorization") != "Token dbtc_s3cr3t" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"status": {"code": 401, "is_success": false, "user_message": "Invalid token."}, "data": null}`)
		return
	}
	if d.down {
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
		return
	}
	path := r.URL.Path
	const prefix = "/api/v2/accounts/42/runs/"
	if !strings.HasPrefix(path, prefix) {
		http.NotFound(w, r)
		return
	}
	rest := strings.TrimPrefix(path, prefix)
	if rest == "" { // the runs list
		q := r.URL.Query()
		if q.Get("status") != "10" || q.Get("order_by") != "-finished_at" || q.Get("limit") == "" {
			d.t.Errorf("runs list query %q: want status=10, order_by=-finished_at and a limit", r.URL.RawQuery)
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		data := []map[string]any{}
		for _, run := range d.runs {
			if run.status != 10 || len(data) == limit {
				continue
			}
			if j := q.Get("job_definition_id"); j != "" && j != strconv.FormatInt(run.job, 10) {
				continue
			}
			if e := q.Get("environment_id"); e != "" && e != strconv.FormatInt(run.env, 10) {
				continue
			}
			var trigger map[string]any = map[string]any{"id": run.id + 1000, "cause": "Scheduled", "github_pull_request_id": nil}
			if run.jobType == "ci" {
				trigger["github_pull_request_id"] = 17
			}
			data = append(data, map[string]any{
				"id": run.id, "account_id": 42, "project_id": 7, "environment_id": run.env, "job_definition_id": run.job,
				"status": run.status, "status_humanized": "Success", "in_progress": false, "is_complete": true, "is_success": true,
				"created_at": "2026-11-30 05:59:00.000000+00:00", "finished_at": run.finished,
				"href":    fmt.Sprintf("https://cloud.getdbt.com/deploy/42/projects/7/runs/%d/", run.id),
				"job":     map[string]any{"id": run.job, "name": run.jobName, "job_type": run.jobType, "environment_id": run.env},
				"trigger": trigger,
			})
		}
		json.NewEncoder(w).Encode(map[string]any{
			"status": map[string]any{"code": 200, "is_success": true, "user_message": "Success!", "developer_message": ""},
			"data":   data,
			"extra":  map[string]any{"filters": map[string]any{}, "order_by": "-finished_at", "pagination": map[string]any{"count": len(data), "total_count": len(data)}},
		})
		return
	}
	id, artifact, _ := strings.Cut(rest, "/")
	if artifact != "artifacts/manifest.json" {
		http.NotFound(w, r)
		return
	}
	d.artifacts.Add(1)
	for _, run := range d.runs {
		if strconv.FormatInt(run.id, 10) != id {
			continue
		}
		if run.manifest == nil {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"status": {"code": 404, "is_success": false, "user_message": "The requested resource could not be found."}, "data": null}`)
			return
		}
		if d.truncate {
			w.Header().Set("Content-Length", strconv.Itoa(len(run.manifest)))
			w.Write(run.manifest[:len(run.manifest)/2])
			return
		}
		w.Write(run.manifest)
		return
	}
	http.NotFound(w, r)
}

func dbtCloudOptions(url string) StoreOptions {
	opts := fastOptions(nil)
	opts.Source.DbtCloudURL = url
	opts.Source.DbtCloudToken = "dbtc_s3cr3t"
	return opts
}

func TestDbtCloudJobSource(t *testing.T) {
	stub := &dbtCloudStub{t: t}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	// No successful run yet: an error that says so, nothing loaded.
	stub.add(cloudRun{id: 100, job: 9, env: 3, jobName: "Nightly", jobType: "scheduled", status: 20, finished: "2026-11-30 06:00:00.000000+00:00"})
	log := &syncBuffer{}
	opts := dbtCloudOptions(srv.URL)
	opts.Logger = fastOptions(log).Logger
	s, err := startWith(t, "dbt-cloud://42/9", opts)
	if err == nil || !strings.Contains(err.Error(), "no successful production run") || s.Current() != nil {
		t.Fatalf("no successful run: err %v, current %v", err, s.Current())
	}
	stub.add(cloudRun{id: 101, job: 9, env: 3, jobName: "Nightly", jobType: "scheduled", status: 10,
		finished: "2026-11-30 06:12:44.123456+00:00", manifest: manifestBody(t, "inv-101", "shop")})
	stub.add(cloudRun{id: 102, job: 8, env: 3, jobName: "Hourly", jobType: "scheduled", status: 10,
		finished: "2026-11-30 07:00:00.000000+00:00", manifest: manifestBody(t, "inv-other-job", "shop")})
	waitFor(t, "the job's successful run", func() bool { return s.Current() != nil })
	run := s.Current().Run()
	want := Run{ID: "101", Job: "Nightly", FinishedAt: time.Date(2026, 11, 30, 6, 12, 44, 123456000, time.UTC),
		URL: "https://cloud.getdbt.com/deploy/42/projects/7/runs/101/", Source: "dbt-cloud://42/9"}
	if !run.FinishedAt.Equal(want.FinishedAt) || run.ID != want.ID || run.Job != want.Job || run.URL != want.URL || run.Source != want.Source {
		t.Fatalf("run identity %+v, want %+v", run, want)
	}
	// Polls that find the same run download nothing.
	n := stub.artifacts.Load()
	checks := s.Status().Checks
	waitFor(t, "several polls", func() bool { return s.Status().Checks > checks+3 })
	if stub.artifacts.Load() != n {
		t.Fatalf("the same run's manifest was downloaded again")
	}
	// An outage, a truncated download, a manifest of another project: each reported, the last good kept, then
	// recovery with the next run.
	good := s.Current()
	stub.set(true, false)
	waitFor(t, "outage reported", func() bool { return strings.Contains(s.Status().LastError, "502") })
	stub.set(false, true)
	stub.add(cloudRun{id: 103, job: 9, env: 3, jobName: "Nightly", jobType: "scheduled", status: 10,
		finished: "2026-11-30 08:00:00+00:00", manifest: manifestBody(t, "inv-103", "shop")})
	waitFor(t, "truncated download reported", func() bool { return strings.Contains(s.Status().LastError, "unexpected EOF") })
	stub.set(false, false)
	waitFor(t, "recovery", func() bool { return invocation(s) == "inv-103" && s.LastError() == nil })
	if good.Run().ID != "101" {
		t.Fatal("a published snapshot changed")
	}
	stub.add(cloudRun{id: 104, job: 9, env: 3, jobName: "Nightly", jobType: "scheduled", status: 10,
		finished: "2026-11-30 09:00:00+00:00", manifest: manifestBody(t, "inv-104", "billing")})
	waitFor(t, "another project rejected", func() bool { return strings.Contains(s.Status().LastError, `project "billing"`) })
	if invocation(s) != "inv-103" {
		t.Fatalf("a manifest of another project replaced production: %s", invocation(s))
	}
	b, _ := json.Marshal(s.Status())
	if strings.Contains(string(b)+log.String(), "dbtc_s3cr3t") {
		t.Fatal("the dbt Cloud token leaked into status or the log")
	}
}

func TestDbtCloudEnvironmentSource(t *testing.T) {
	stub := &dbtCloudStub{t: t}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	stub.add(cloudRun{id: 200, job: 9, env: 3, jobName: "Nightly", jobType: "scheduled", status: 10,
		finished: "2026-11-30 06:00:00+00:00", manifest: manifestBody(t, "inv-200", "shop")})
	stub.add(cloudRun{id: 201, job: 5, env: 3, jobName: "Freshness", jobType: "scheduled", status: 10,
		finished: "2026-11-30 06:30:00+00:00"}) // wrote no manifest
	stub.add(cloudRun{id: 202, job: 6, env: 3, jobName: "PR checks", jobType: "ci", status: 10,
		finished: "2026-11-30 07:00:00+00:00", manifest: manifestBody(t, "inv-ci", "shop")})
	stub.add(cloudRun{id: 203, job: 9, env: 4, jobName: "Staging", jobType: "scheduled", status: 10,
		finished: "2026-11-30 08:00:00+00:00", manifest: manifestBody(t, "inv-staging", "shop")})
	s, err := startWith(t, "dbt-cloud://42/environments/3", dbtCloudOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if run := s.Current().Run(); run.ID != "200" || run.Job != "Nightly" {
		t.Fatalf("environment source picked %+v, want the latest non-CI run with a manifest (200)", run)
	}
	if _, err := NewManifestStore("dbt-cloud://42/9", StoreOptions{}); err == nil || !strings.Contains(err.Error(), "DBT_CLOUD_API_TOKEN") {
		t.Fatalf("no token: %v", err)
	}
	opts := dbtCloudOptions(srv.URL)
	opts.Source.DbtCloudToken = "wrong"
	if _, err := startWith(t, "dbt-cloud://42/9", opts); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad token: %v", err)
	}
}

// paradimeStub answers the Bolt GraphQL queries deferproxy sends and serves the "presigned" manifest URLs.
type paradimeStub struct {
	t    *testing.T
	mu   sync.Mutex
	url  string
	runs []map[string]any // listBoltRuns runs, newest first
	// manifests by run id; commands of a run: a failed one, then the successful dbt build.
	manifests map[int64][]byte
	down      bool
	downloads atomic.Int64
}

func (p *paradimeStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/presigned/") {
		if r.Header.Get("X-API-SECRET") != "" {
			p.t.Error("API credentials sent to the artifact URL")
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/presigned/"), 10, 64)
		p.downloads.Add(1)
		w.Write(p.manifests[id])
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("X-API-KEY") != "key" || r.Header.Get("X-API-SECRET") != "pdm_s3cr3t" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors": [{"message": "Unauthorized"}]}`)
		return
	}
	if p.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		p.t.Errorf("GraphQL request: %v", err)
	}
	num := func(k string) int64 { f, _ := req.Variables[k].(float64); return int64(f) }
	var data map[string]any
	switch {
	case strings.Contains(req.Query, "listBoltRuns("):
		if req.Variables["scheduleName"] != "nightly run" {
			data = map[string]any{"listBoltRuns": map[string]any{"ok": false, "runs": []any{}}}
			break
		}
		data = map[string]any{"listBoltRuns": map[string]any{"ok": true, "runs": p.runs}}
	case strings.Contains(req.Query, "boltRunStatus("):
		id := num("runId")
		data = map[string]any{"boltRunStatus": map[string]any{"state": "SUCCESS", "commands": []any{
			map[string]any{"id": id*10 + 1, "command": "git clone", "returnCode": 0},
			map[string]any{"id": id*10 + 2, "command": "dbt build", "returnCode": 0},
			map[string]any{"id": id*10 + 3, "command": "dbt run-operation fails", "returnCode": 1},
		}}}
	case strings.Contains(req.Query, "boltCommand("):
		id := num("commandId")
		res := []any{map[string]any{"id": id*10 + 1, "path": "target/run_results.json"}}
		if id%10 == 2 && p.manifests[id/10] != nil {
			res = append(res, map[string]any{"id": id*10 + 2, "path": "target/manifest.json"})
		}
		data = map[string]any{"boltCommand": map[string]any{"resources": res}}
	case strings.Contains(req.Query, "boltResourceUrl("):
		run := num("resourceId") / 100
		data = map[string]any{"boltResourceUrl": map[string]any{"url": fmt.Sprintf("%s/presigned/%d?X-Amz-Signature=s3cr3t", p.url, run)}}
	default:
		p.t.Errorf("unexpected GraphQL query %q", req.Query)
	}
	json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func TestParadimeSource(t *testing.T) {
	stub := &paradimeStub{t: t, manifests: map[int64][]byte{}}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	stub.url = srv.URL
	stub.runs = []map[string]any{
		{"id": 12, "state": "FAILED", "startDttm": "2026-11-30T07:00:00", "endDttm": "2026-11-30T07:05:00"},
		{"id": 11, "state": "RUNNING", "startDttm": "2026-11-30T06:30:00", "endDttm": nil},
	}
	opts := fastOptions(nil)
	opts.Source.ParadimeEndpoint, opts.Source.ParadimeKey, opts.Source.ParadimeSecret = srv.URL+"/api/v1/graphql", "key", "pdm_s3cr3t"
	s, err := startWith(t, "paradime://nightly%20run", opts)
	if err == nil || !strings.Contains(err.Error(), "no successful run") {
		t.Fatalf("no successful run: %v", err)
	}
	stub.mu.Lock()
	stub.manifests[13] = manifestBody(t, "inv-bolt-13", "shop")
	stub.runs = append([]map[string]any{{"id": 13, "state": "SUCCESS", "startDttm": "2026-11-30T08:00:00", "endDttm": "2026-11-30T08:10:30"}}, stub.runs...)
	stub.mu.Unlock()
	waitFor(t, "the successful Bolt run", func() bool { return s.Current() != nil })
	run := s.Current().Run()
	if run.ID != "13" || run.Job != "nightly run" || run.URL != "https://app.paradime.io/bolt/run_id/13" ||
		!run.FinishedAt.Equal(time.Date(2026, 11, 30, 8, 10, 30, 0, time.UTC)) {
		t.Fatalf("Bolt run identity: %+v", run)
	}
	n := stub.downloads.Load()
	checks := s.Status().Checks
	waitFor(t, "several polls", func() bool { return s.Status().Checks > checks+3 })
	if stub.downloads.Load() != n {
		t.Fatal("the same Bolt run's manifest was downloaded again")
	}
	stub.mu.Lock()
	stub.down = true
	stub.mu.Unlock()
	waitFor(t, "outage reported", func() bool { return strings.Contains(s.Status().LastError, "503") })
	stub.mu.Lock()
	stub.down = false
	stub.manifests[14] = manifestBody(t, "inv-bolt-14", "shop")
	stub.runs = append([]map[string]any{{"id": 14, "state": "SUCCESS", "startDttm": "2026-11-30T09:00:00", "endDttm": "2026-11-30T09:10:00"}}, stub.runs...)
	stub.mu.Unlock()
	waitFor(t, "recovery", func() bool { return invocation(s) == "inv-bolt-14" && s.LastError() == nil })
	// A schedule that does not exist says so.
	if _, err := startWith(t, "paradime://nightly", opts); err == nil || !strings.Contains(err.Error(), `no schedule "nightly"`) {
		t.Fatalf("unknown schedule: %v", err)
	}
	if _, err := NewManifestStore("paradime://nightly", StoreOptions{}); err == nil || !strings.Contains(err.Error(), "PARADIME_API_KEY") {
		t.Fatalf("no credentials: %v", err)
	}
	b, _ := json.Marshal(s.Status())
	if strings.Contains(string(b), "s3cr3t") {
		t.Fatal("a secret leaked into status")
	}
}
