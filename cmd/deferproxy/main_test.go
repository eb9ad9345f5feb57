package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/deferproxy/deferproxy/internal/pgtest"
)

// TestMain stops the shared PostgreSQL cluster (if a test started one) after the tests.
func TestMain(m *testing.M) { pgtest.Main(m) }

// newTestLogger logs through t.Log, so a failing test shows what the proxy said.
func newTestLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
