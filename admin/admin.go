// Package admin is deferproxy's operator HTTP listener: /healthz, /readyz, /status (JSON), /metrics (Prometheus) and
// a small status page at /. It knows nothing about the defer engine: the command wires in a StatusSource and a
// readiness check, so this package imports nothing of ours.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deferproxy/deferproxy/secret"
)

// StatusSource is anything that can describe itself as a JSON-able value; the defer engine satisfies it. When the
// value also implements prometheus.Collector, its metrics are served on /metrics too.
type StatusSource interface {
	Status() any
}

// DeferralLister is implemented by an engine that can list its latest deferrals; the page shows them first.
type DeferralLister interface {
	LatestDeferrals() []Deferral
}

// Deferral is one relation reference that was read from production instead of dev.
type Deferral struct {
	At      time.Time
	Session uint64
	NodeID  string
	From    string // the dev relation the statement named
	To      string // the production relation it read
}

// SessionStats are the proxy's session counters, as shown on /status and /metrics.
type SessionStats struct {
	Active   uint64 `json:"active"`             // sessions open now
	Total    uint64 `json:"total"`              // sessions accepted since start
	Rejected uint64 `json:"rejected,omitempty"` // connections refused past max_client_conns (53300)
	Cancels  uint64 `json:"cancels,omitempty"`  // cancel requests forwarded upstream
}

// Config configures a Server. Only Addr is required; every other field may be left zero.
type Config struct {
	// Addr is the TCP address to listen on, e.g. "127.0.0.1:6480".
	Addr string
	// Version is the deferproxy version shown on /status and in deferproxy_build_info.
	Version string
	// Listen and Upstream describe the proxy for people reading /status (Upstream must carry no password).
	Listen, Upstream string
	// Sessions returns the proxy's session counters; nil reports zeros.
	Sessions func() SessionStats
	// Snowflake returns the Snowflake listener's state (its sessions, their deferrals and refusals) for /status; nil
	// when it does not run.
	Snowflake func() any
	// Ready reports whether the proxy can serve (upstream reachable, manifest loaded); nil means always ready.
	Ready func(ctx context.Context) error
	// Engine is the defer engine's status; nil when the proxy runs pass-through.
	Engine StatusSource
	// EngineNote explains, on /status and the page, why there is no engine (e.g. "no manifest configured").
	EngineNote string
	// SetDefaultMode changes the mode of new sessions (POST /mode, SPEC §8); nil disables the endpoint.
	SetDefaultMode func(mode string) error
	// ExecReport returns what the sessions of a `deferproxy exec` tag did (GET /exec/{tag}); nil disables the route.
	ExecReport func(tag string) (any, bool)
	// ExecDevManifest takes the dev manifest `deferproxy exec` uploads for its tag's sessions (PUT
	// /exec/{tag}/manifest) and says what it loaded; nil disables the route.
	ExecDevManifest func(tag string, body io.Reader) (string, error)
	// Hosts are the names, besides localhost, IP addresses and Addr's host, under which the listener may be reached
	// (admin_hosts): a request for any other Host is refused, against DNS rebinding.
	Hosts []string
	// Token, when set (admin_token), is required of every request but /healthz and /readyz: as a bearer token, or
	// the page's cookie set once the token is entered in its form. Never logged or shown.
	Token string
	// Secrets are scrubbed from everything the listener shows (/status, /readyz, the page), whatever part of the
	// process put them in a status or an error; nil scrubs nothing.
	Secrets *secret.Set
	// ReadyTimeout bounds one /readyz check (default 2s).
	ReadyTimeout time.Duration
	// Logger receives listener errors; nil discards them.
	Logger *slog.Logger
}

// Status is the document served on /status and rendered by the page and by `deferproxy status`.
type Status struct {
	Version    string       `json:"version"`
	StartedAt  time.Time    `json:"started_at"`
	Uptime     string       `json:"uptime"`
	Listen     string       `json:"listen,omitempty"`
	Upstream   string       `json:"upstream,omitempty"`
	Sessions   SessionStats `json:"sessions"`
	Snowflake  any          `json:"snowflake,omitempty"`
	Ready      bool         `json:"ready"`
	ReadyError string       `json:"ready_error,omitempty"`
	Engine     any          `json:"engine,omitempty"`
	EngineNote string       `json:"engine_note,omitempty"`
}

// Server is the admin HTTP listener. Its lifecycle follows net/http.Server: Serve or ListenAndServe until Shutdown.
type Server struct {
	cfg     Config
	started time.Time
	http    *http.Server
	reg     *prometheus.Registry

	mu   sync.Mutex
	addr net.Addr
}

// New builds a Server and its metrics registry. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		return nil, errors.New("admin: empty listen address (to disable the admin listener, do not create it)")
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, started: time.Now(), reg: prometheus.NewRegistry()}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler returns the admin routes; useful on its own with httptest.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /status", s.status)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("POST /mode", s.setMode)
	mux.HandleFunc("GET /exec/{tag}", s.execReport)
	mux.HandleFunc("PUT /exec/{tag}/manifest", s.execDevManifest)
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("POST /login", s.login)
	return s.guard(mux)
}

// ListenAndServe listens on Config.Addr and serves until Shutdown; it returns nil after a clean shutdown.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin listen %s: %w (pass --admin with a free address, or --admin \"\" to disable it)", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	s.http.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Addr is the listening address, nil until Serve has started.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Shutdown stops the listener and waits for in-flight requests until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.http.Shutdown(ctx)
}

// Snapshot builds the current Status document, running the readiness check.
func (s *Server) Snapshot(ctx context.Context) Status {
	st := Status{
		Version:    s.cfg.Version,
		StartedAt:  s.started.UTC(),
		Uptime:     time.Since(s.started).Round(time.Second).String(),
		Listen:     s.cfg.Listen,
		Upstream:   s.cfg.Upstream,
		EngineNote: s.cfg.EngineNote,
	}
	if s.cfg.Snowflake != nil {
		st.Snowflake = s.cfg.Snowflake()
	}
	if s.cfg.Sessions != nil {
		st.Sessions = s.cfg.Sessions()
	}
	if err := s.checkReady(ctx); err != nil {
		st.ReadyError = err.Error()
	} else {
		st.Ready = true
	}
	if s.cfg.Engine != nil {
		st.Engine = s.cfg.Engine.Status()
	}
	if s.cfg.Secrets != nil {
		st.Upstream = s.cfg.Secrets.Scrub(st.Upstream)
		st.ReadyError = s.cfg.Secrets.Scrub(st.ReadyError)
		st.EngineNote = s.cfg.Secrets.Scrub(st.EngineNote)
		st.Engine = s.scrubValue(st.Engine)
	}
	return st
}

// scrubValue returns the engine's status as the same JSON document with every string scrubbed of the configured
// secrets: the strings are scrubbed decoded, so that JSON's escaping cannot hide a secret from the scrubber.
func (s *Server) scrubValue(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var doc any
	if json.Unmarshal(b, &doc) != nil {
		return v
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			return s.cfg.Secrets.Scrub(t)
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
		}
		return x
	}
	return walk(doc)
}

func (s *Server) checkReady(ctx context.Context) error {
	if s.cfg.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	return s.cfg.Ready(ctx)
}
