package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deferproxy/deferproxy/secret"
)

// s3Fetcher polls an S3 object by ETag (GetObject with If-None-Match). Credentials come from the AWS SDK's standard
// chain (environment, shared config and credentials files, SSO, web identity, instance and container roles).
type s3Fetcher struct {
	bucket, key string
	shown       string
	opts        SourceOptions

	mu     sync.Mutex
	client *s3.Client
	etag   string
}

func newS3Fetcher(source string, opts SourceOptions) (*s3Fetcher, error) {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, fmt.Errorf("manifest source %q: write it as s3://bucket/path/to/manifest.json", secret.DSN(source))
	}
	return &s3Fetcher{bucket: u.Host, key: strings.TrimPrefix(u.Path, "/"), shown: "s3://" + u.Host + u.Path, opts: opts}, nil
}

func (f *s3Fetcher) String() string { return f.shown }

// s3Client builds the client on first use: the credential chain may do I/O.
func (f *s3Fetcher) s3Client(ctx context.Context) (*s3.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.client != nil {
		return f.client, nil
	}
	var loadOpts []func(*awsconfig.LoadOptions) error
	if f.opts.S3Region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(f.opts.S3Region))
	}
	if f.opts.HTTPClient != nil {
		loadOpts = append(loadOpts, awsconfig.WithHTTPClient(f.opts.HTTPClient))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: AWS configuration: %w", f.shown, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	f.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
		// S3-compatible stores often send no checksum; the SDK would log that on every fetch.
		o.DisableLogOutputChecksumValidationSkipped = true
		if f.opts.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(f.opts.S3Endpoint)
			o.UsePathStyle = true // MinIO, moto and most S3-compatible stores
		}
	})
	return f.client, nil
}

func (f *s3Fetcher) Fetch(ctx context.Context) (*Fetched, error) {
	c, err := f.s3Client(ctx)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(f.key)}
	f.mu.Lock()
	if f.etag != "" {
		in.IfNoneMatch = aws.String(f.etag)
	}
	f.mu.Unlock()
	out, err := c.GetObject(ctx, in)
	if err != nil {
		var se interface{ HTTPStatusCode() int }
		if errors.As(err, &se) && se.HTTPStatusCode() == http.StatusNotModified {
			return nil, ErrNotModified
		}
		return nil, fmt.Errorf("manifest %s: %w", f.shown, secret.URLError(err))
	}
	etag := aws.ToString(out.ETag)
	return &Fetched{Body: out.Body, Commit: func() {
		f.mu.Lock()
		f.etag = etag
		f.mu.Unlock()
	}}, nil
}
