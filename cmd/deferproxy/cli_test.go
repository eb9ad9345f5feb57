package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// run executes a fresh command tree with args and returns stdout, stderr and the error.
func run(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	err := execute(ctx, root, args)
	return out.String(), errb.String(), err
}

func TestCommandTree(t *testing.T) {
	root := newRootCmd()
	root.InitDefaultCompletionCmd()
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	sort.Strings(names)
	want := []string{"check-grants", "completion", "demo", "exec", "manifest", "rewrite", "serve", "setup-notify", "status", "version"}
	for _, w := range want {
		found := false
		for _, n := range names {
			found = found || n == w
		}
		if !found {
			t.Errorf("command %q missing; have %v", w, names)
		}
	}
}

// TestServeFlags checks that `serve` has the flags the README's configuration reference and docker-compose.yml use
// (SPEC §12).
func TestServeFlags(t *testing.T) {
	serve, _, err := newRootCmd().Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config", "listen", "upstream", "admin", "log-format", "log-level", "tls-cert", "tls-key",
		"max-message-size", "max-client-conns", "handshake-timeout", "idle-timeout", "shutdown-timeout",
		"manifest", "dev-manifest", "dev-schema", "dev-database", "schema-map", "mode", "allow-prod-writes",
		"catalog-dsn", "notices"} {
		if serve.Flags().Lookup(f) == nil {
			t.Errorf("serve lacks --%s", f)
		}
	}
	if got := serve.Flags().Lookup("listen").DefValue; got != "127.0.0.1:6432" {
		t.Errorf("--listen default %q", got)
	}
	if got := serve.Flags().Lookup("admin").DefValue; got != "127.0.0.1:6480" {
		t.Errorf("--admin default %q", got)
	}
}

func TestVersionCommand(t *testing.T) {
	out, _, err := run(t, context.Background(), "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"deferproxy " + version, runtime.Version(), "pg_query:   v5.", "(PostgreSQL 16.", "pgx:        v5."} {
		if !strings.Contains(out, w) {
			t.Errorf("version output lacks %q:\n%s", w, out)
		}
	}
}

func TestCompletionCommand(t *testing.T) {
	out, _, err := run(t, context.Background(), "completion", "bash")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "__start_deferproxy") {
		t.Fatalf("bash completion script lacks __start_deferproxy:\n%.300s", out)
	}
}

// TestUsageErrors: bad command lines fail before anything starts, with a message that says what to do.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve"}, nil, "upstream is required: pass --upstream"},
		{[]string{"serve", "--upstream", "postgres://127.0.0.1:1/db", "--mode", "sideways"}, nil, "use defer, favor_state or off"},
		{[]string{"serve", "--no-such-flag"}, nil, "see deferproxy serve --help"},
		{[]string{"serve", "--upstream", "postgres://127.0.0.1:1/db"}, map[string]string{"DEFERPROXY_LOG_LEVEL": "chatty"},
			"log_level \"chatty\""},
		{[]string{"serve", "--upstream", "postgres://127.0.0.1:1/db", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"},
			nil, "load TLS certificate /nonexistent.pem"},
		{[]string{"serve", "--upstream", "postgres://127.0.0.1:1/db"}, map[string]string{"DEFERPROXY_IDLE_TIMEOUT": "30"},
			"idle_timeout (from environment variable DEFERPROXY_IDLE_TIMEOUT): 30 has no unit"},
		{[]string{"status", "--admin", ""}, nil, "admin listener is disabled"},
		{[]string{"status", "--admin", "127.0.0.1:1", "--timeout", "2s"}, nil, "is `deferproxy serve` running?"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, stderr, err := run(t, ctx, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(stderr, tt.want) {
				t.Fatalf("error %q (stderr %q) lacks %q", err, stderr, tt.want)
			}
		})
	}
}

// TestExitCodes: whatever the user must fix on the command line exits 2 (unknown command, flag or argument, a bad
// value); a failure while running exits 1.
func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int
		help bool // the message points to --help (command-line errors; a bad value names its source instead)
	}{
		{[]string{"version"}, 0, false},
		{[]string{"no-such-command"}, 2, true},
		{[]string{"serve", "--no-such-flag"}, 2, true},
		{[]string{"serve", "extra-argument"}, 2, true},
		{[]string{"serve", "--idle-timeout", "30"}, 2, false},
		{[]string{"status", "--admin", "127.0.0.1:1", "--timeout", "2s"}, 1, false},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, stderr, err := run(t, ctx, tt.args...)
		cancel()
		if got := exitCode(err); got != tt.want {
			t.Errorf("deferproxy %s: exit %d, want %d (%v)", strings.Join(tt.args, " "), got, tt.want, err)
		}
		if tt.help && !strings.Contains(stderr, "--help") {
			t.Errorf("deferproxy %s: usage error %q does not point to --help", strings.Join(tt.args, " "), stderr)
		}
	}
}

// buildBinary builds deferproxy once per test binary with a version stamped the way the Makefile does.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "deferproxy-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "deferproxy")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: out}
	}
	return bin, nil
})

// TestBinary builds the real binary and checks the -ldflags version stamp and graceful shutdown on SIGTERM with a
// session open: the session must end with 57P01 within --shutdown-timeout and the process must exit 0.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(bin)) })
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "deferproxy v0.0.0-test\n") {
		t.Fatalf("version: %q, %v", out, err)
	}

	cluster := pgtest.Shared(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--admin", "", "--log-format", "json",
		"--shutdown-timeout", "1s")
	cmd.Env = append(os.Environ(), "DEFERPROXY_UPSTREAM="+cluster.URL("", "", "postgres"))
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := waitForLog(t, &logs, `"msg":"deferproxy serving"`, `"listen":"`)
	conn, err := pgx.Connect(context.Background(), "postgres://"+pgtest.SuperUser+"@"+addr+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatalf("connect through the proxy: %v\nlogs:\n%s", err, logs.String())
	}
	var one int
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 through the proxy: %d, %v", one, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM; logs:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve still running 30s after SIGTERM; logs:\n%s", logs.String())
	}
	// The open session was ended by the proxy, with the administrator-shutdown code.
	err = conn.QueryRow(context.Background(), "SELECT 1").Scan(&one)
	if err == nil {
		t.Fatal("session still works after the proxy stopped")
	}
	for _, w := range []string{`"msg":"shutting down`, `"msg":"deferproxy stopped"`} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("logs lack %s:\n%s", w, logs.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine (the child's stderr) and a reading test.
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

// waitForLog waits for a log line containing marker and returns the quoted value that follows key on it.
func waitForLog(t *testing.T, logs *syncBuffer, marker, key string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, marker) {
				if i := strings.Index(line, key); i >= 0 {
					rest := line[i+len(key):]
					return rest[:strings.Index(rest, `"`)]
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %s after 30s:\n%s", marker, logs.String())
	return ""
}

// TestSetupNotify: the printed SQL is the one the catalog documents, and --apply installs both event triggers.
func TestSetupNotify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _, err := run(t, ctx, "setup-notify")
	if err != nil || out != catalog.NotifySQL {
		t.Fatalf("setup-notify printed %q, %v", out, err)
	}
	cluster := pgtest.Shared(t)
	db := cluster.NewDatabase(t)
	url := cluster.URL(pgtest.SuperUser, "", db)
	out, _, err = run(t, ctx, "setup-notify", "--apply", url)
	if err != nil || !strings.Contains(out, "installed") {
		t.Fatalf("setup-notify --apply: %q, %v", out, err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'deferproxy_%'").Scan(&n); err != nil || n != 2 {
		t.Fatalf("event triggers after --apply: %d, %v", n, err)
	}
}
