package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/deferproxy/deferproxy/secret"
)

// A Fetcher is one place a manifest comes from: a file, a directory, an HTTP(S) URL, an S3 object, a dbt Cloud job
// or environment, a Paradime Bolt schedule (SPEC §9). The ManifestStore polls it, validates what it returns, keeps
// the last good manifest and reports the source's health; a Fetcher only knows how to ask its source for something
// newer.
type Fetcher interface {
	// Fetch returns the manifest if it may have changed since the last committed fetch, or ErrNotModified. The
	// caller reads Body (JSON, or gzip-compressed JSON) to the end within ctx, closes it, and calls Commit once the
	// body parsed, so that a body cut off midway is fetched again.
	Fetch(ctx context.Context) (*Fetched, error)
	// String describes the source for logs, status and errors. It never holds a secret.
	String() string
}

// Watcher is a Fetcher that can tell sooner than the poll when its source changed (files, through fsnotify).
type Watcher interface {
	// Watch calls changed after each change until ctx is done. It returns when ctx is done.
	Watch(ctx context.Context, changed func())
}

// Fetched is a manifest as a source returned it.
type Fetched struct {
	Body io.ReadCloser
	// Run is what the source knows of the run that produced it (scheduler sources); the store fills the rest from
	// the manifest's metadata.
	Run Run
	// Commit, when set, records the fetch as seen (ETag, run id, file stamp): the next Fetch asks for newer only.
	Commit func()
}

// ErrNotModified is returned by Fetch when the source has nothing newer than the last committed fetch.
var ErrNotModified = errors.New("manifest not modified")

// SourceOptions are what sources need beyond the source string: credentials and endpoints, from the configuration
// built in cmd/ (no source reads the environment itself, except the AWS SDK's standard credential chain).
type SourceOptions struct {
	// Headers are sent with every HTTP(S) manifest request (manifest_headers). Never logged.
	Headers http.Header
	// DbtCloudURL is dbt Cloud's base URL (default https://cloud.getdbt.com); DbtCloudToken its API token.
	DbtCloudURL   string
	DbtCloudToken string
	// ParadimeEndpoint, ParadimeKey and ParadimeSecret are Paradime's GraphQL API endpoint and credentials.
	ParadimeEndpoint string
	ParadimeKey      string
	ParadimeSecret   string
	// S3Endpoint overrides the S3 endpoint (MinIO, R2, GCS interoperability; path-style addressing); S3Region the
	// region (default: the SDK's chain, else us-east-1).
	S3Endpoint string
	S3Region   string
	// RequestTimeout bounds waiting for an HTTP response's headers (default 30 s); the whole fetch, body included, is
	// bounded by StoreOptions.FetchTimeout.
	RequestTimeout time.Duration
	// HTTPClient, if set, is used for HTTP(S) and scheduler sources (tests); default: one with RequestTimeout.
	HTTPClient *http.Client
}

// Source kinds, as reported by SourceKind and status.
const (
	KindFile     = "file"
	KindHTTP     = "http"
	KindS3       = "s3"
	KindDbtCloud = "dbt-cloud"
	KindParadime = "paradime"
)

// SourceKind tells which kind of source a configured manifest value names (file for plain paths).
func SourceKind(source string) string {
	scheme, _, ok := strings.Cut(source, "://")
	if !ok {
		return KindFile
	}
	switch strings.ToLower(scheme) {
	case "http", "https":
		return KindHTTP
	case "s3":
		return KindS3
	case "dbt-cloud":
		return KindDbtCloud
	case "paradime":
		return KindParadime
	case "file":
		return KindFile
	}
	return scheme
}

// NewFetcher builds the Fetcher for a configured manifest source: a path or file:path (a file, or a directory
// holding manifest.json), http(s)://…, s3://bucket/key, dbt-cloud://<account>/<job>,
// dbt-cloud://<account>/environments/<env>, or paradime://<schedule name>.
func NewFetcher(source string, opts SourceOptions) (Fetcher, error) {
	if source == "" {
		return nil, errors.New("no manifest source configured: give a path to manifest.json, a directory, or a URL (see SPEC §9)")
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	switch kind := SourceKind(source); kind {
	case KindFile:
		return newFileFetcher(source)
	case KindHTTP:
		return newHTTPFetcher(source, opts)
	case KindS3:
		return newS3Fetcher(source, opts)
	case KindDbtCloud:
		return newDbtCloudFetcher(source, opts)
	case KindParadime:
		return newParadimeFetcher(source, opts)
	default:
		return nil, fmt.Errorf("manifest source %q: unknown scheme %q (use a path, file:, http(s)://, s3://, dbt-cloud:// or paradime://)",
			secret.DSN(source), kind)
	}
}

// ParseHeaders reads manifest_headers: one "Name: value" per line (blank lines ignored). Errors name the line, never
// its value.
func ParseHeaders(text string) (http.Header, error) {
	h := http.Header{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d is not `Name: value` (the value is not shown: it may be a secret)", i+1)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}
