package catalog

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// startMoto runs moto's S3 emulator in server mode from the test venv (requirements-test.txt) and returns its URL.
func startMoto(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(pgtest.Venv(t), "bin", "moto_server")
	if _, err := os.Stat(bin); err != nil {
		if pgtest.InCI() {
			t.Fatalf("moto_server missing from the venv (make venv installs requirements-test.txt): %v", err)
		}
		t.Skipf("moto_server missing from the venv %s: run `make venv`", filepath.Dir(filepath.Dir(bin)))
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(60 * time.Second):
		t.Fatal("moto_server did not start within 60 s")
	}
	return ""
}

func TestS3Source(t *testing.T) {
	endpoint := startMoto(t)
	// Credentials through the SDK's standard chain (here: the environment), hermetic from the host's files.
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "aws_s3cr3t")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle, o.DisableLogOutputChecksumValidationSkipped = aws.String(endpoint), true, true
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("prod-artifacts")}); err != nil {
		t.Fatal(err)
	}
	put := func(body []byte) {
		t.Helper()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("prod-artifacts"), Key: aws.String("dbt/manifest.json"),
			Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put(manifestBody(t, "s3-1", "shop"))

	opts := fastOptions(nil)
	opts.Source.S3Endpoint = endpoint
	opts.RunURLTemplate = "https://ci.example/runs/{invocation_id}"
	s, err := startWith(t, "s3://prod-artifacts/dbt/manifest.json", opts)
	if err != nil {
		t.Fatal(err)
	}
	if run := s.Current().Run(); run.ID != "s3-1" || run.URL != "https://ci.example/runs/s3-1" || run.Source != "s3://prod-artifacts/dbt/manifest.json" {
		t.Fatalf("run: %+v", run)
	}
	// Unchanged object: polls end in 304 (If-None-Match), nothing reloads.
	checks := s.Status().Checks
	waitFor(t, "several polls", func() bool { return s.Status().Checks > checks+3 })
	if s.Loads() != 1 || s.LastError() != nil {
		t.Fatalf("unchanged object: %d loads, err %v", s.Loads(), s.LastError())
	}
	put(manifestBody(t, "s3-2", "shop"))
	waitFor(t, "new object", func() bool { return invocation(s) == "s3-2" })
	// The object goes away: reported, last good kept; it comes back: loaded.
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("prod-artifacts"), Key: aws.String("dbt/manifest.json")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "missing object reported", func() bool { return strings.Contains(s.Status().LastError, "NoSuchKey") })
	if invocation(s) != "s3-2" {
		t.Fatal("last good manifest not kept")
	}
	put(manifestBody(t, "s3-3", "billing"))
	waitFor(t, "another project rejected", func() bool { return strings.Contains(s.Status().LastError, `project "billing"`) })
	put(manifestBody(t, "s3-4", "shop"))
	waitFor(t, "recovery", func() bool { return invocation(s) == "s3-4" && s.LastError() == nil })
	if strings.Contains(s.Status().LastError+s.Status().Source, "aws_s3cr3t") {
		t.Fatal("a secret leaked")
	}
}
