package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/deferproxy/deferproxy/secret"
)

// httpFetcher polls an HTTP(S) URL with conditional requests (ETag / Last-Modified). Compressed transfer
// (Content-Encoding: gzip) is undone by net/http; a .json.gz body by the store.
type httpFetcher struct {
	url     string
	shown   string
	headers http.Header
	client  *http.Client

	mu            sync.Mutex
	etag, lastMod string
}

func newHTTPFetcher(source string, opts SourceOptions) (*httpFetcher, error) {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("manifest source %q is not a valid URL", secret.DSN(source))
	}
	return &httpFetcher{url: source, shown: secret.DSN(source), headers: opts.Headers, client: httpClient(opts)}, nil
}

// httpClient is the client of HTTP-based sources: a response's headers must arrive within RequestTimeout.
func httpClient(opts SourceOptions) *http.Client {
	if opts.HTTPClient != nil {
		return opts.HTTPClient
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = opts.RequestTimeout
	return &http.Client{Transport: tr}
}

func (f *httpFetcher) String() string { return f.shown }

func (f *httpFetcher) Fetch(ctx context.Context) (*Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", f.shown, err)
	}
	for k, v := range f.headers {
		req.Header[k] = v
	}
	f.mu.Lock()
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	if f.lastMod != "" {
		req.Header.Set("If-Modified-Since", f.lastMod)
	}
	f.mu.Unlock()
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", f.shown, secret.URLError(err))
	}
	if resp.StatusCode == http.StatusNotModified {
		resp.Body.Close()
		return nil, ErrNotModified
	}
	if err := statusError(resp, "manifest "+f.shown); err != nil {
		return nil, err
	}
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return &Fetched{Body: resp.Body, Commit: func() {
		f.mu.Lock()
		f.etag, f.lastMod = etag, lastMod
		f.mu.Unlock()
	}}, nil
}

// statusError turns a non-2xx response into an error naming what was asked and a little of the answer, and closes
// its body; a 2xx response gives nil and stays open.
func statusError(resp *http.Response, what string) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	msg := strings.Join(strings.Fields(string(snippet)), " ")
	hint := ""
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = " (check the credentials or headers configured for it)"
	case http.StatusNotFound:
		hint = " (check the URL, account, job or schedule)"
	}
	if msg != "" {
		msg = ": " + msg
	}
	return fmt.Errorf("%s: HTTP %s%s%s", what, resp.Status, msg, hint)
}

// maxAPIResponse bounds a scheduler API's JSON answer (not the manifest, whose limit is StoreOptions.MaxBytes).
const maxAPIResponse = 32 << 20

// doJSON sends req and decodes a 2xx JSON answer into v.
func doJSON(client *http.Client, req *http.Request, what string, v any) error {
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, secret.URLError(err))
	}
	if err := statusError(resp, what); err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIResponse)).Decode(v); err != nil {
		return fmt.Errorf("%s: the answer is not the expected JSON (truncated or changed API?): %w", what, err)
	}
	return nil
}
