package catalog

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// manifestBody is testdata/manifest_v11.json with another invocation id and project name.
func manifestBody(t *testing.T, invocation, project string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/manifest_v11.json")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), `"invocation_id": "inv-v11"`, `"invocation_id": "`+invocation+`"`, 1)
	s = strings.Replace(s, `"project_name": "shop"`, `"project_name": "`+project+`"`, 1)
	return []byte(s)
}

// syncBuffer is a log sink the store's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// fastOptions poll quickly so that the tests wait on conditions, never on wall-clock assertions.
func fastOptions(log *syncBuffer) StoreOptions {
	var logger *slog.Logger
	if log != nil {
		logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		logger = quietLogger()
	}
	return StoreOptions{Logger: logger, PollInterval: 20 * time.Millisecond, RetryMin: 10 * time.Millisecond,
		RetryMax: 40 * time.Millisecond, FetchTimeout: 2 * time.Second, Name: "production manifest"}
}

func startWith(t *testing.T, source string, opts StoreOptions) (*ManifestStore, error) {
	t.Helper()
	s, err := NewManifestStore(source, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); s.Wait() })
	return s, s.Start(ctx)
}

func invocation(s *ManifestStore) string {
	if m := s.Current(); m != nil {
		return m.Metadata().InvocationID
	}
	return ""
}

// manifestServer is an HTTP(S) manifest host: it serves body with an ETag and Last-Modified, answers conditional
// requests with 304, and can be switched to failures.
type manifestServer struct {
	mu       sync.Mutex
	body     []byte
	etag     int
	mode     string // "", "500", "slow", "truncated", "gzip"
	gets     atomic.Int64
	full     atomic.Int64 // 200 answers
	lastAuth atomic.Value
	release  chan struct{}
}

func (m *manifestServer) set(body []byte) {
	m.mu.Lock()
	m.body, m.etag = body, m.etag+1
	m.mu.Unlock()
}

func (m *manifestServer) setMode(mode string) { m.mu.Lock(); m.mode = mode; m.mu.Unlock() }

func (m *manifestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.gets.Add(1)
	m.lastAuth.Store(r.Header.Get("Authorization"))
	m.mu.Lock()
	body, etag, mode := m.body, `"v`+strconv.Itoa(m.etag)+`"`, m.mode
	m.mu.Unlock()
	switch mode {
	case "500":
		http.Error(w, "upstream storage unavailable", http.StatusInternalServerError)
		return
	case "slow":
		select {
		case <-m.release:
		case <-r.Context().Done():
		}
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	m.full.Add(1)
	switch mode {
	case "truncated":
		// Promise the whole body, send a third, and close: a transfer cut off midway.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/3])
		return
	case "gzip", "gzfile":
		// Compressed in transfer (Content-Encoding), or a .json.gz file served as it is.
		if mode == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
		} else {
			w.Header().Set("Content-Type", "application/gzip")
		}
		zw := gzip.NewWriter(w)
		zw.Write(body)
		zw.Close()
		return
	}
	w.Write(body)
}

func newManifestServer(t *testing.T, body []byte) (*manifestServer, *httptest.Server) {
	m := &manifestServer{release: make(chan struct{})}
	m.set(body)
	srv := httptest.NewServer(m)
	t.Cleanup(func() { close(m.release); srv.Close() })
	return m, srv
}

func TestHTTPSourcePollsConditionally(t *testing.T) {
	ms, srv := newManifestServer(t, manifestBody(t, "run-1", "shop"))
	log := &syncBuffer{}
	opts := fastOptions(log)
	opts.Source.Headers = http.Header{"Authorization": {"Bearer s3cr3t-token"}}
	opts.RunURLTemplate = "https://ci.example/runs/{invocation_id}"
	s, err := startWith(t, srv.URL+"/manifest.json?sig=s3cr3t-query", opts)
	if err != nil {
		t.Fatal(err)
	}
	run := s.Current().Run()
	if run.ID != "run-1" || run.URL != "https://ci.example/runs/run-1" || run.FinishedAt.IsZero() {
		t.Fatalf("run identity from metadata and template: %+v", run)
	}
	if got := ms.lastAuth.Load(); got != "Bearer s3cr3t-token" {
		t.Fatalf("configured header not sent: %q", got)
	}
	// Polls that find nothing new are answered 304 and load nothing.
	gets := ms.gets.Load()
	waitFor(t, "several polls", func() bool { return ms.gets.Load() > gets+3 })
	if ms.full.Load() != 1 || s.Loads() != 1 {
		t.Fatalf("unchanged manifest downloaded %d times, loaded %d times", ms.full.Load(), s.Loads())
	}
	ms.set(manifestBody(t, "run-2", "shop"))
	waitFor(t, "new manifest", func() bool { return invocation(s) == "run-2" })
	// Compressed transfer and a gzip file both load.
	ms.setMode("gzip")
	ms.set(manifestBody(t, "run-3", "shop"))
	waitFor(t, "gzip transfer", func() bool { return invocation(s) == "run-3" })
	ms.setMode("gzfile")
	ms.set(manifestBody(t, "run-4", "shop"))
	waitFor(t, "gzip file", func() bool { return invocation(s) == "run-4" })
	st := s.Status()
	if st.Kind != KindHTTP || st.LastCheck.IsZero() || st.LastChange.IsZero() || st.LastError != "" || st.Checks < 4 {
		t.Fatalf("status: %+v", st)
	}
	// Secrets (headers, the URL's query) appear nowhere: status, run, log.
	b, _ := json.Marshal(st)
	r, _ := json.Marshal(s.Current().Run())
	for _, text := range []string{string(b), string(r), log.String()} {
		if strings.Contains(text, "s3cr3t") {
			t.Fatalf("a secret leaked: %s", text)
		}
	}
}

func TestHTTPSourceFailuresKeepLastGood(t *testing.T) {
	ms, srv := newManifestServer(t, manifestBody(t, "good", "shop"))
	opts := fastOptions(nil)
	opts.FetchTimeout = 300 * time.Millisecond
	opts.MaxBytes = int64(len(manifestBody(t, "good", "shop")) + 100)
	s, err := startWith(t, srv.URL+"/manifest.json", opts)
	if err != nil {
		t.Fatal(err)
	}
	good := s.Current()
	for _, c := range []struct {
		name, mode string
		body       []byte
		want       string
	}{
		{"server error", "500", nil, "500"},
		{"timeout", "slow", nil, "deadline exceeded"},
		{"truncated body", "truncated", manifestBody(t, "cut", "shop"), "unexpected EOF"},
		{"another project", "", manifestBody(t, "other", "billing"), `project "billing"`},
		{"too large", "", append(manifestBody(t, "big", "shop"), bytes.Repeat([]byte(" "), 200)...), "larger than"},
		{"not a manifest", "", []byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v11.json"}, "nodes": {}}`), "no models"},
	} {
		ms.setMode(c.mode)
		if c.body != nil {
			ms.set(c.body)
		}
		waitFor(t, c.name+" reported", func() bool {
			st := s.Status()
			return strings.Contains(st.LastError, c.want)
		})
		if s.Current() != good {
			t.Fatalf("%s: the last good manifest was replaced", c.name)
		}
		if st := s.Status(); st.Failures == 0 || st.LastErrorAt.IsZero() {
			t.Fatalf("%s: status %+v", c.name, st)
		}
		// The source comes back: the store recovers by itself.
		ms.setMode("")
		ms.set(manifestBody(t, "good-"+c.mode, "shop"))
		waitFor(t, c.name+" recovered", func() bool { return invocation(s) == "good-"+c.mode && s.LastError() == nil })
		good = s.Current()
	}
}

func TestBackoff(t *testing.T) {
	const poll, lo, hi = time.Minute, 5 * time.Second, 10 * time.Minute
	for _, c := range []struct {
		failures int
		want     time.Duration
	}{{0, poll}, {1, lo}, {2, 10 * time.Second}, {3, 20 * time.Second}, {7, 320 * time.Second}, {8, hi}, {100, hi}} {
		if got := backoff(c.failures, poll, lo, hi); got != c.want {
			t.Errorf("backoff(%d) = %v, want %v", c.failures, got, c.want)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	h, err := ParseHeaders("Authorization: Bearer abc\n\nX-Team:  data \n")
	if err != nil || h.Get("Authorization") != "Bearer abc" || h.Get("X-Team") != "data" {
		t.Fatalf("ParseHeaders: %v %v", h, err)
	}
	if _, err := ParseHeaders("Authorization Bearer hunter2"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a bad line: %v", err)
	}
}

// A restart without network uses the on-disk copy of the last good manifest, with its run; once the source answers
// again its manifest replaces the copy.
func TestStateDirCacheForOfflineRestart(t *testing.T) {
	ms, srv := newManifestServer(t, manifestBody(t, "cached-run", "shop"))
	dir := t.TempDir()
	opts := fastOptions(nil)
	opts.StateDir = dir
	opts.RunURLTemplate = "https://ci.example/{invocation_id}"
	url := srv.URL + "/manifest.json"
	func() {
		s, err := NewManifestStore(url, opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer func() { cancel(); s.Wait() }()
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	ms.setMode("500") // the source is down when the proxy restarts
	s, err := startWith(t, url, opts)
	if err == nil {
		t.Fatal("first check against a failing source succeeded")
	}
	m := s.Current()
	if m == nil || m.Metadata().InvocationID != "cached-run" || m.Run().URL != "https://ci.example/cached-run" || !s.Status().FromCache {
		t.Fatalf("offline restart: manifest %v, status %+v", m, s.Status())
	}
	ms.setMode("")
	ms.set(manifestBody(t, "fresh-run", "shop"))
	waitFor(t, "fresh manifest after the outage", func() bool { return invocation(s) == "fresh-run" && !s.Status().FromCache })
}
