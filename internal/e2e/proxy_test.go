package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/deferral"
	"github.com/deferproxy/deferproxy/proxy"
)

// proxyHandle is one running in-process deferproxy: proxy.Server with a deferral.Engine as its Hook.
type proxyHandle struct {
	Port   int
	engine *deferral.Engine
	logs   *syncBuffer
	stop   func()
}

// status is the engine's Status as JSON plus the tail of the proxy's log, for failure messages.
func (h *proxyHandle) status() string {
	b, _ := json.MarshalIndent(h.engine.Status(), "", "  ")
	return string(b) + "\nproxy log:\n" + tail(h.logs.String(), 6000)
}

// startProxy starts deferproxy in-process on 127.0.0.1:0 in front of upstream (a postgres:// URL of the project
// database) with the production manifest at manifest, dev schema dbt_dev (derivation, SPEC §3.3, or the dev manifest at
// devManifest when it is not "", SPEC §3.1) and the given default mode. Each dev run gets a fresh proxy and engine, so no dev-catalog cache outlives the schema reset between runs
// (the reset happens directly in PostgreSQL, not through the proxy). It stops in t.Cleanup and by stop.
func startProxy(t testing.TB, upstream, manifest, mode, devManifest string) *proxyHandle {
	return startProxyWith(t, upstream, manifest, mode, devManifest, nil)
}

// startProxyWith is startProxy with the engine's configuration changed by configure (a schema map, catalog_ttl).
func startProxyWith(t testing.TB, upstream, manifest, mode, devManifest string, configure func(*deferral.Config)) *proxyHandle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := deferral.Config{
		Manifest:    manifest,
		DevManifest: devManifest,
		DevSchema:   devSchema,
		Mode:        mode,
		CatalogDSN:  upstream,
		Logger:      logger,
	}
	if configure != nil {
		configure(&cfg)
	}
	eng, err := deferral.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("start the defer engine: %v", err)
	}
	srv, err := proxy.New(proxy.Config{
		Listen:   "127.0.0.1:0",
		Upstream: upstream,
		Logger:   logger,
		Hook:     proxy.EngineHook(eng),
	})
	if err != nil {
		cancel()
		eng.Close()
		t.Fatalf("create the proxy: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		eng.Close()
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	var once sync.Once
	h := &proxyHandle{Port: ln.Addr().(*net.TCPAddr).Port, engine: eng, logs: logs}
	h.stop = func() {
		once.Do(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := srv.Shutdown(sctx); err != nil {
				t.Logf("proxy shutdown: %v", err)
			}
			cancel()
			<-served
			if err := eng.Close(); err != nil {
				t.Logf("engine close: %v", err)
			}
		})
	}
	t.Cleanup(h.stop)
	return h
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of slog handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
