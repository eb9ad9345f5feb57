package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testProxy is a proxy in front of a cluster, on a free port.
type testProxy struct {
	srv     *proxy.Server
	addr    string
	cluster *pgtest.Cluster
	cancel  context.CancelFunc
	done    chan error
}

// startProxy starts a proxy whose upstream is c (sslmode=disable unless cfg.Upstream is set) and stops it at cleanup.
func startProxy(t testing.TB, c *pgtest.Cluster, cfg proxy.Config) *testProxy {
	t.Helper()
	if cfg.Upstream == "" {
		cfg.Upstream = fmt.Sprintf("postgres://%s/postgres?sslmode=disable", c.Addr())
	}
	if cfg.Logger == nil && os.Getenv("PROXY_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := proxy.New(cfg)
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tp := &testProxy{srv: srv, addr: ln.Addr().String(), cluster: c, cancel: cancel, done: make(chan error, 1)}
	go func() { tp.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		select {
		case err := <-tp.done:
			if err != nil && !errors.Is(err, proxy.ErrServerClosed) && !errors.Is(err, context.Canceled) {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	return tp
}

// url is a connection URL through the proxy.
func (tp *testProxy) url(user, password, database, extra string) string {
	u := "postgres://" + user
	if password != "" {
		u += ":" + password
	}
	if database == "" {
		database = "postgres"
	}
	u += "@" + tp.addr + "/" + database
	if extra == "" {
		extra = "sslmode=disable"
	}
	return u + "?" + extra
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", redact(url), err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func redact(url string) string {
	if i := strings.Index(url, "@"); i > 0 {
		if j := strings.LastIndex(url[:i], ":"); j > len("postgres://") {
			return url[:j] + ":xxx" + url[i:]
		}
	}
	return url
}

// pgCode returns the SQLSTATE of a server error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pgxConnect connects and closes, returning the connect error.
func pgxConnect(url string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err == nil {
		c.Close(ctx)
	}
	return c, err
}

func errorAs(err error, target any) bool { return errors.As(err, target) }
