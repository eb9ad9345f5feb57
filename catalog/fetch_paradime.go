package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/deferproxy/deferproxy/secret"
)

// paradimeFetcher follows the latest successful Bolt run of a schedule through Paradime's GraphQL API (SPEC §9):
// listBoltRuns(scheduleName) → the newest run in state SUCCESS → boltRunStatus(runId).commands (newest first, exit
// code 0) → boltCommand(commandId).resources → the one at target/manifest.json → boltResourceUrl(resourceId).url,
// a presigned URL fetched without credentials. Headers X-API-KEY and X-API-SECRET; the endpoint is the
// workspace's PARADIME_API_ENDPOINT.
type paradimeFetcher struct {
	schedule    string
	endpoint    string
	key, secret string
	client      *http.Client
	shown       string
	mu          sync.Mutex
	lastRun     int64
}

// boltRunsScanned is how many recent runs of a schedule are looked at for a successful one with a manifest.
const boltRunsScanned = 20

// boltRunURL is the run's page in Paradime's UI (the URL Paradime's own CLI prints).
const boltRunURL = "https://app.paradime.io/bolt/run_id/"

func newParadimeFetcher(source string, opts SourceOptions) (*paradimeFetcher, error) {
	schedule, err := url.PathUnescape(strings.Trim(source[len("paradime://"):], "/"))
	if err != nil || schedule == "" {
		return nil, fmt.Errorf("manifest source %q: write it as paradime://<schedule name> (escape spaces as %%20)", source)
	}
	if opts.ParadimeEndpoint == "" || opts.ParadimeKey == "" || opts.ParadimeSecret == "" {
		return nil, fmt.Errorf("manifest source %s needs Paradime API credentials: set PARADIME_API_ENDPOINT, PARADIME_API_KEY and PARADIME_API_SECRET (Paradime: Settings → Workspaces → API keys)", source)
	}
	return &paradimeFetcher{schedule: schedule, endpoint: opts.ParadimeEndpoint, key: opts.ParadimeKey, secret: opts.ParadimeSecret,
		client: httpClient(opts), shown: secret.DSN(source)}, nil
}

func (f *paradimeFetcher) String() string { return f.shown }

// gql runs one GraphQL query and decodes data.<field> into v.
func (f *paradimeFetcher) gql(ctx context.Context, query, field string, vars map[string]any, v any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("Paradime API endpoint %q: %w", secret.DSN(f.endpoint), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-KEY", f.key)
	req.Header.Set("X-API-SECRET", f.secret)
	var resp struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	what := "Paradime " + field + " (schedule " + strconv.Quote(f.schedule) + ")"
	if err := doJSON(f.client, req, what, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = e.Message
		}
		return fmt.Errorf("%s: %s", what, strings.Join(msgs, "; "))
	}
	raw, ok := resp.Data[field]
	if !ok || string(raw) == "null" {
		return fmt.Errorf("%s: the answer has no %s", what, field)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: unexpected answer: %w", what, err)
	}
	return nil
}

type boltRun struct {
	ID      int64  `json:"id"`
	State   string `json:"state"`
	EndDttm string `json:"endDttm"`
}

func (f *paradimeFetcher) Fetch(ctx context.Context) (*Fetched, error) {
	var runs struct {
		OK   bool      `json:"ok"`
		Runs []boltRun `json:"runs"`
	}
	err := f.gql(ctx, `query listBoltRuns($scheduleName: String!, $offset: Int!, $limit: Int!) {
  listBoltRuns(scheduleName: $scheduleName, offset: $offset, limit: $limit) { ok runs { id state startDttm endDttm } }
}`, "listBoltRuns", map[string]any{"scheduleName": f.schedule, "offset": 0, "limit": boltRunsScanned}, &runs)
	if err != nil {
		return nil, err
	}
	if !runs.OK {
		return nil, fmt.Errorf("Paradime listBoltRuns: no schedule %q in this workspace (check the name; it is case-sensitive)", f.schedule)
	}
	f.mu.Lock()
	last := f.lastRun
	f.mu.Unlock()
	for _, r := range runs.Runs {
		if r.State != "SUCCESS" {
			continue
		}
		if r.ID == last {
			return nil, ErrNotModified
		}
		fetched, err := f.manifestOf(ctx, r)
		if errors.Is(err, errNoArtifact) {
			continue
		}
		return fetched, err
	}
	return nil, fmt.Errorf("Bolt schedule %q has no successful run with target/manifest.json among its latest %d runs; run it once in Paradime",
		f.schedule, len(runs.Runs))
}

func (f *paradimeFetcher) manifestOf(ctx context.Context, r boltRun) (*Fetched, error) {
	var status struct {
		Commands []struct {
			ID         int64  `json:"id"`
			Command    string `json:"command"`
			ReturnCode *int   `json:"returnCode"`
		} `json:"commands"`
	}
	if err := f.gql(ctx, `query boltRunStatus($runId: Int!) { boltRunStatus(runId: $runId) { state commands { id command returnCode } } }`,
		"boltRunStatus", map[string]any{"runId": r.ID}, &status); err != nil {
		return nil, err
	}
	for i := len(status.Commands) - 1; i >= 0; i-- {
		c := status.Commands[i]
		if c.ReturnCode == nil || *c.ReturnCode != 0 {
			continue
		}
		var cmd struct {
			Resources []struct {
				ID   int64  `json:"id"`
				Path string `json:"path"`
			} `json:"resources"`
		}
		if err := f.gql(ctx, `query boltCommand($commandId: Int!) { boltCommand(commandId: $commandId) { resources { id path } } }`,
			"boltCommand", map[string]any{"commandId": c.ID}, &cmd); err != nil {
			return nil, err
		}
		for _, res := range cmd.Resources {
			if res.Path != "target/manifest.json" {
				continue
			}
			var ru struct {
				URL string `json:"url"`
			}
			if err := f.gql(ctx, `query boltResourceUrl($resourceId: Int!) { boltResourceUrl(resourceId: $resourceId) { url } }`,
				"boltResourceUrl", map[string]any{"resourceId": res.ID}, &ru); err != nil {
				return nil, err
			}
			return f.download(ctx, r, ru.URL)
		}
	}
	return nil, fmt.Errorf("Bolt run %d: %w", r.ID, errNoArtifact)
}

// download fetches the presigned manifest URL (no API credentials: they are for the GraphQL endpoint only).
func (f *paradimeFetcher) download(ctx context.Context, r boltRun, rawURL string) (*Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("Bolt run %d manifest URL: %w", r.ID, secret.URLError(err))
	}
	what := fmt.Sprintf("Bolt run %d manifest", r.ID)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, secret.URLError(err))
	}
	if err := statusError(resp, what); err != nil {
		return nil, err
	}
	id := strconv.FormatInt(r.ID, 10)
	run := Run{ID: id, Job: f.schedule, FinishedAt: parseSchedulerTime(r.EndDttm), URL: boltRunURL + id}
	return &Fetched{Body: resp.Body, Run: run, Commit: func() {
		f.mu.Lock()
		f.lastRun = r.ID
		f.mu.Unlock()
	}}, nil
}
