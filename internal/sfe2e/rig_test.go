package sfe2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/snowflake"
)

// recorder stands between the listener and fakesnow and records the sqlText of every query request that reached
// the account (gzip bodies decompressed): fakesnow resolves names case-insensitively, so the exact text is asserted.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sqls []string
}

func newRecorder(t *testing.T, upstream string) *recorder {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/queries/v1/query-request" {
			raw, _ := io.ReadAll(r.Body)
			js := raw
			if r.Header.Get("Content-Encoding") == "gzip" {
				if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
					js, _ = io.ReadAll(zr)
				}
			}
			var q struct{ SQLText string }
			_ = json.Unmarshal(js, &q)
			rec.mu.Lock()
			rec.sqls = append(rec.sqls, q.SQLText)
			rec.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(raw))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// since returns the texts recorded from index i on.
func (r *recorder) since(i int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sqls[i:]...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sqls)
}

// listener is deferproxy's Snowflake front end on the defer engine, in process.
type listener struct {
	srv  *snowflake.Server
	eng  *deferral.Engine
	port int
	logs *syncBuffer
}

func startListener(t *testing.T, upstream, manifest, devSchema, mode, catalogDSN string) *listener {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng, err := deferral.New(context.Background(), deferral.Config{Manifest: manifest, DevSchema: devSchema, Mode: mode,
		SnowflakeCatalogDSN: catalogDSN, Logger: logger})
	if err != nil {
		t.Fatalf("start the defer engine: %v", err)
	}
	srv, err := snowflake.New(snowflake.Config{Upstream: upstream, Engine: eng, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		eng.Close()
	})
	return &listener{srv: srv, eng: eng, port: ln.Addr().(*net.TCPAddr).Port, logs: logs}
}

// openDB opens gosnowflake (v1.19.1, over http) on port, in database db and schema, with extra session parameters.
func openDB(t testing.TB, port int, schema string, params map[string]string) *sql.DB {
	t.Helper()
	cfg := &sf.Config{Account: "fakesnow", User: "fake", Password: "snow-" + t.Name(), Database: "db", Schema: schema,
		Warehouse: "w", Role: "r", Host: "127.0.0.1", Port: port, Protocol: "http", MaxRetryCount: 1,
		Params: map[string]*string{}}
	for k, v := range params {
		cfg.Params[k] = &v
	}
	dsn, err := sf.DSN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("snowflake", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// rows reads a query's rows as text, in order.
func rows(t testing.TB, db *sql.DB, q string) ([][]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
			if !v.Valid {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

func mustRows(t *testing.T, db *sql.DB, q string) [][]string {
	t.Helper()
	r, err := rows(t, db, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// dbt runs the venv's dbt in a copy of the project.
type dbt struct {
	bin, dir string
	env      []string
}

func newDbt(t *testing.T, env ...string) *dbt {
	t.Helper()
	venv := pgtest.Venv(t)
	bin := filepath.Join(venv, "bin", "dbt")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("dbt is not installed in %s (make venv): %v", venv, err)
	}
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "testdata", "snowproj")
	dir := filepath.Join(t.TempDir(), "snowproj")
	if out, err := exec.Command("cp", "-r", src, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy project: %v %s", err, out)
	}
	return &dbt{bin: bin, dir: dir, env: env}
}

// run executes dbt with args and extra environment; it returns the output and whether dbt succeeded.
func (d *dbt) run(t *testing.T, extraEnv []string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin, args...)
	cmd.Dir = d.dir
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBT_") && !strings.HasPrefix(kv, "SF_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(append(append(env, "DBT_SEND_ANONYMOUS_USAGE_STATS=false", "DBT_PROFILES_DIR="+d.dir,
		"DBT_USE_COLORS=false", "DBT_PARTIAL_PARSE=false"), d.env...), extraEnv...)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("dbt %v: %v", args, err)
	}
	return string(out), err == nil
}

func port(u string) int {
	p, _ := url.Parse(u)
	n, _ := strconv.Atoi(p.Port())
	return n
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
