// Command proxyserve runs proxy.Server with no defer engine, for benchmarks: it isolates the wire proxy's cost from
// the CLI and the engine. -hook=noop installs a Hook that sees every statement and changes nothing, to measure what
// the Hook path itself costs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // -pprof: profiles for docs/BENCHMARKS.md
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/deferproxy/deferproxy/proxy"
)

type noopHook struct{}

func (noopHook) OpenSession(context.Context, proxy.SessionInfo) proxy.SessionHook {
	return noopSession{}
}

type noopSession struct{}

func (noopSession) Statement(_ context.Context, _ proxy.StatementKind, sql string) proxy.StatementResult {
	return proxy.StatementResult{SQL: sql}
}
func (noopSession) ReadyForQuery(byte) {}
func (noopSession) Close()             {}

func main() {
	listen := flag.String("listen", "127.0.0.1:6432", "listen address")
	upstream := flag.String("upstream", "postgres://127.0.0.1:5432/postgres?sslmode=disable", "upstream URL")
	hook := flag.String("hook", "", `"" (none) or "noop"`)
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	maxConns := flag.Int("max-client-conns", 5000, "MaxClientConns")
	flag.Parse()

	cfg := proxy.Config{Listen: *listen, Upstream: *upstream, MaxClientConns: *maxConns,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if *hook == "noop" {
		cfg.Hook = noopHook{}
	}
	srv, err := proxy.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *pprofAddr != "" {
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(context.Background()) }()
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, err)
	}
}
