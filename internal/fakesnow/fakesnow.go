// Package fakesnow starts fakesnow (tekumara/fakesnow, the pinned PyPI package in the test venv) in server mode as a
// Snowflake account for tests: a DuckDB-backed emulation of the connectors' HTTP API on a free loopback port. It is
// used by tests only, and `make test` installs it (requirements-test.txt).
//
// What fakesnow does not emulate (token renewal, /queries/{id}/result, multi-statement, temporary objects with
// qualified names, case-sensitive name resolution) is listed in README.md; the snowflake package's scripted peer
// covers those protocol paths.
package fakesnow

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

//go:embed launch.py
var launcher []byte

// Server is one running fakesnow process. Every database it holds lives in its memory and goes with it.
type Server struct {
	// URL is its base URL, http://127.0.0.1:PORT: a Snowflake upstream.
	URL string
	// Host and Port are what a connector is given (protocol http).
	Host string
	Port int

	cmd     *exec.Cmd
	waitErr chan error // Wait's result, once the process ends
	log     *syncBuffer
	once    sync.Once
}

// Start launches fakesnow on a free port and waits until it answers; t.Cleanup stops it. It fails the test (never
// skips in CI) when the venv lacks fakesnow.
func Start(t testing.TB) *Server {
	t.Helper()
	venv := pgtest.Venv(t)
	python := filepath.Join(venv, "bin", "python")
	script := filepath.Join(t.TempDir(), "fakesnow_launch.py")
	if err := os.WriteFile(script, launcher, 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	// A free port can be taken between the check and fakesnow's bind (other tests run): retry on another.
	for try := 0; try < 5; try++ {
		s, err := start(python, script)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		if strings.Contains(err.Error(), "No module named") {
			if pgtest.InCI() {
				t.Fatalf("fakesnow[server] is not installed in %s (make venv): %v", venv, err)
			}
			t.Skipf("fakesnow[server] is not installed in %s (make venv): %v", venv, err)
		}
		lastErr = err
	}
	t.Fatalf("fakesnow did not start: %v", lastErr)
	return nil
}

func start(python, script string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Host: "127.0.0.1", Port: port, log: &syncBuffer{}}
	s.cmd = exec.Command(python, script, strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", python, err)
	}
	exited := make(chan error, 1)
	s.waitErr = exited
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(3 * time.Minute) // a cold start imports duckdb, pyarrow and sqlglot: ~1 min on a loaded 2-core machine
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err // for kill
			return nil, fmt.Errorf("fakesnow exited (%v): %s", err, s.log.String())
		default:
		}
		// Any HTTP answer means uvicorn is serving (fakesnow has no health route).
		if resp, err := http.Get(s.URL + "/"); err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.kill()
	return nil, errors.New("fakesnow did not answer within 3 minutes: " + s.log.String())
}

// Stop ends fakesnow (SIGINT, as uvicorn expects, then SIGKILL).
func (s *Server) Stop() { s.once.Do(s.kill) }

func (s *Server) kill() {
	if s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-s.waitErr:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.waitErr
	}
}

// Log is what fakesnow printed, for a failing test's message.
func (s *Server) Log() string { return s.log.String() }

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() < 1<<20 {
		b.b.Write(p)
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
