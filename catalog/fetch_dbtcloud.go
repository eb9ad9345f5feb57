package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deferproxy/deferproxy/secret"
)

// dbtCloudFetcher follows dbt Cloud's latest successful production run (API v2):
//
//	dbt-cloud://<account>/<job>: GET /api/v2/accounts/{a}/runs/?job_definition_id={job}&status=10&order_by=-finished_at&limit=1
//	dbt-cloud://<account>/environments/<env>: the same filtered by environment_id, skipping CI runs (what dbt Cloud's
//	own defer uses)
//
// then GET /api/v2/accounts/{a}/runs/{run}/artifacts/manifest.json, with "Authorization: Token <token>". A poll that
// finds the run already loaded asks nothing more.
type dbtCloudFetcher struct {
	base     string
	account  string
	job, env string // one of them
	token    string
	client   *http.Client
	shown    string
	mu       sync.Mutex
	lastRun  int64
}

// envRunsScanned is how many recent successful runs of an environment are looked at for one that is not CI and has a
// manifest.
const envRunsScanned = 20

func newDbtCloudFetcher(source string, opts SourceOptions) (*dbtCloudFetcher, error) {
	rest := source[len("dbt-cloud://"):]
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	f := &dbtCloudFetcher{base: strings.TrimRight(opts.DbtCloudURL, "/"), token: opts.DbtCloudToken, client: httpClient(opts), shown: secret.DSN(source)}
	if f.base == "" {
		f.base = "https://cloud.getdbt.com"
	}
	numeric := func(s string) bool { _, err := strconv.ParseInt(s, 10, 64); return err == nil }
	switch {
	case len(parts) == 2 && numeric(parts[0]) && numeric(parts[1]):
		f.account, f.job = parts[0], parts[1]
	case len(parts) == 3 && numeric(parts[0]) && parts[1] == "environments" && numeric(parts[2]):
		f.account, f.env = parts[0], parts[2]
	default:
		return nil, fmt.Errorf("manifest source %q: write it as dbt-cloud://<account id>/<job id> or dbt-cloud://<account id>/environments/<environment id>", source)
	}
	if f.token == "" {
		return nil, fmt.Errorf("manifest source %s needs a dbt Cloud API token: set DBT_CLOUD_API_TOKEN", source)
	}
	if _, err := url.Parse(f.base); err != nil {
		return nil, fmt.Errorf("dbt_cloud_url %q is not a URL: %w", f.base, err)
	}
	return f, nil
}

func (f *dbtCloudFetcher) String() string { return f.shown }

// dbtCloudRun is the part of API v2's run object deferproxy reads.
type dbtCloudRun struct {
	ID              int64  `json:"id"`
	JobDefinitionID int64  `json:"job_definition_id"`
	EnvironmentID   int64  `json:"environment_id"`
	Status          int    `json:"status"`
	FinishedAt      string `json:"finished_at"`
	Href            string `json:"href"`
	Job             *struct {
		Name    string `json:"name"`
		JobType string `json:"job_type"`
	} `json:"job"`
	Trigger *struct {
		GithubPullRequestID  any `json:"github_pull_request_id"`
		GitlabMergeRequestID any `json:"gitlab_merge_request_id"`
		AzurePullRequestID   any `json:"azure_pull_request_id"`
	} `json:"trigger"`
}

// ci tells a CI run (a job of type ci, or a run triggered by a pull request), whose manifest is not production's.
func (r dbtCloudRun) ci() bool {
	if r.Job != nil && r.Job.JobType == "ci" {
		return true
	}
	t := r.Trigger
	return t != nil && (t.GithubPullRequestID != nil || t.GitlabMergeRequestID != nil || t.AzurePullRequestID != nil)
}

// dbtCloudSuccess is dbt Cloud's run status code for success.
const dbtCloudSuccess = 10

func (f *dbtCloudFetcher) Fetch(ctx context.Context) (*Fetched, error) {
	q := url.Values{"status": {strconv.Itoa(dbtCloudSuccess)}, "order_by": {"-finished_at"}, "include_related": {`["job","trigger"]`}}
	what := "dbt Cloud job " + f.job
	if f.job != "" {
		q.Set("job_definition_id", f.job)
		q.Set("limit", "1")
	} else {
		q.Set("environment_id", f.env)
		q.Set("limit", strconv.Itoa(envRunsScanned))
		what = "dbt Cloud environment " + f.env
	}
	var list struct {
		Data []dbtCloudRun `json:"data"`
	}
	req, err := f.request(ctx, "/api/v2/accounts/"+f.account+"/runs/?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if err := doJSON(f.client, req, "list runs of "+what, &list); err != nil {
		return nil, err
	}
	f.mu.Lock()
	last := f.lastRun
	f.mu.Unlock()
	for _, r := range list.Data {
		if r.Status != dbtCloudSuccess || r.ci() {
			continue
		}
		if r.ID == last {
			return nil, ErrNotModified
		}
		fetched, err := f.artifact(ctx, r)
		if errors.Is(err, errNoArtifact) && f.env != "" {
			continue // a run that wrote no manifest (docs generate, source freshness): an older one may have
		}
		return fetched, err
	}
	return nil, fmt.Errorf("%s has no successful production run with a manifest in account %s (checked %d runs); run it once in dbt Cloud",
		what, f.account, len(list.Data))
}

var errNoArtifact = errors.New("the run has no manifest.json artifact")

func (f *dbtCloudFetcher) artifact(ctx context.Context, r dbtCloudRun) (*Fetched, error) {
	req, err := f.request(ctx, fmt.Sprintf("/api/v2/accounts/%s/runs/%d/artifacts/manifest.json", f.account, r.ID))
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dbt Cloud run %d manifest: %w", r.ID, secret.URLError(err))
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, fmt.Errorf("dbt Cloud run %d: %w", r.ID, errNoArtifact)
	}
	if err := statusError(resp, fmt.Sprintf("dbt Cloud run %d manifest", r.ID)); err != nil {
		return nil, err
	}
	run := Run{ID: strconv.FormatInt(r.ID, 10), URL: r.Href, FinishedAt: parseSchedulerTime(r.FinishedAt)}
	if r.Job != nil {
		run.Job = r.Job.Name
	}
	if run.Job == "" {
		run.Job = "job " + strconv.FormatInt(r.JobDefinitionID, 10)
	}
	id := r.ID
	return &Fetched{Body: resp.Body, Run: run, Commit: func() {
		f.mu.Lock()
		f.lastRun = id
		f.mu.Unlock()
	}}, nil
}

func (f *dbtCloudFetcher) request(ctx context.Context, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("dbt Cloud request: %w", err)
	}
	req.Header.Set("Authorization", "Token "+f.token)
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// parseSchedulerTime reads the timestamps schedulers write ("2024-05-01 06:12:44.123456+00:00", RFC 3339); zero
// when none fits.
func parseSchedulerTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
