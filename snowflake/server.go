// Package snowflake is deferproxy's second front end: an HTTP listener speaking the Snowflake connectors' REST API
// (the one gosnowflake, snowflake-connector-python and JDBC use, not the public SQL API). It is a reverse proxy to
// the real account that forwards every request unchanged — query parameters, headers, bodies, responses — except
// the few it must read: the login (to key a session by its token), the query and abort requests (whose sqlText the
// engine decides), token renewal (to re-key) and session delete (to close). docs/SPEC.md §11 says what it does.
//
// It imports nothing of deferproxy's but the engine contract, like the PostgreSQL front end (package proxy).
package snowflake

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deferproxy/deferproxy/engine"
)

// IDBase is added to this front end's session numbers so that they never collide with the PostgreSQL proxy's in
// the engine's status (both number from 1).
const IDBase = 1 << 32

// Defaults of Config.
const (
	DefaultMaxBodySize = 64 << 20
	DefaultSessionIdle = 4 * time.Hour
)

// Config configures a Server.
type Config struct {
	// Listen is the address ListenAndServe listens on.
	Listen string
	// Upstream is the account's base URL, https://<account>.snowflakecomputing.com (http://host:port in tests).
	Upstream string
	// Engine decides statements; nil forwards everything unchanged (pass-through).
	Engine engine.Engine
	// MaxBodySize bounds the request bodies read whole (login, query and abort requests), decompressed; past it the
	// client gets an error body. Default DefaultMaxBodySize.
	MaxBodySize int64
	// SessionIdle forgets a session no request has used for this long (clients do not always delete theirs).
	// Default DefaultSessionIdle.
	SessionIdle time.Duration
	// CheckMode validates a mode asked for at login (the engine's one validation); nil accepts any.
	CheckMode func(string) error
	// Transport reaches the upstream; nil: a clone of http.DefaultTransport. Its compression is turned off so that
	// response bodies reach the client exactly as the upstream sent them.
	Transport http.RoundTripper
	// Logger; nil discards. Bodies, tokens and passwords are never logged.
	Logger *slog.Logger
}

// Server is the Snowflake listener. Its lifecycle follows net/http.Server: ListenAndServe or Serve until Shutdown.
type Server struct {
	cfg      Config
	upstream *url.URL
	rp       *httputil.ReverseProxy
	http     *http.Server
	log      *slog.Logger

	nextID     atomic.Uint64
	logins     atomic.Uint64
	statements atomic.Uint64
	deferrals  atomic.Uint64
	refusals   atomic.Uint64

	hashSeed maphash.Seed // of the retry caches

	mu        sync.Mutex
	byToken   map[string]*session
	lastSweep time.Time
}

// New validates cfg and builds a Server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	u, err := ParseUpstream(cfg.Upstream)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true
		t.Proxy = nil // the account is reached directly: forwarding through an environment proxy is the client's choice
		cfg.Transport = t
	} else if t, ok := cfg.Transport.(*http.Transport); ok && !t.DisableCompression {
		t = t.Clone()
		t.DisableCompression = true
		cfg.Transport = t
	}
	s := &Server{cfg: cfg, upstream: u, log: cfg.Logger, byToken: map[string]*session{}, hashSeed: maphash.MakeSeed()}
	s.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The account's host for Host and SNI; path and query as the client sent them.
			pr.SetURL(u)
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
		},
		Transport:      cfg.Transport,
		FlushInterval:  -1,
		ModifyResponse: s.modifyResponse,
		ErrorHandler:   s.upstreamError,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	s.http = &http.Server{
		Addr:              cfg.Listen,
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// ParseUpstream checks an upstream URL: http or https, a host, nothing else (no user, path, query or fragment).
func ParseUpstream(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("snowflake upstream is empty (set it to the account URL, https://<account>.snowflakecomputing.com)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("snowflake upstream is not a URL (want https://<account>.snowflakecomputing.com): %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("snowflake upstream %s: the scheme must be https (or http for a local emulator)", u.Redacted())
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("snowflake upstream %s: want only a scheme and a host, https://<account>.snowflakecomputing.com[:port]", u.Redacted())
	}
	u.Path = ""
	return u, nil
}

func (s *Server) seed() maphash.Seed { return s.hashSeed }

// ListenAndServe listens on Config.Listen and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("snowflake listen %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on l until Shutdown; it returns http.ErrServerClosed after Shutdown.
func (s *Server) Serve(l net.Listener) error { return s.http.Serve(l) }

// Shutdown stops accepting, waits for requests in flight (until ctx is done) and closes every engine session.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.mu.Lock()
	open := make([]*session, 0, len(s.byToken))
	for tok, ss := range s.byToken {
		delete(s.byToken, tok)
		open = append(open, ss)
	}
	s.mu.Unlock()
	for _, ss := range open {
		ss.close()
	}
	return err
}

// ServeHTTP routes the few requests the front end reads; everything else goes to the upstream unchanged.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && s.cfg.Engine != nil {
		switch r.URL.Path {
		case "/queries/v1/query-request":
			s.query(w, r)
			return
		case "/queries/v1/abort-request":
			s.abort(w, r)
			return
		case "/session/v1/login-request":
			s.login(w, r)
			return
		case "/session/token-request":
			s.renew(w, r)
			return
		case "/session":
			if r.URL.Query().Get("delete") == "true" {
				s.forward(w, r, &exchange{kind: exDelete, token: requestToken(r)})
				return
			}
		}
	}
	s.rp.ServeHTTP(w, r)
}

// upstreamError answers a request the upstream could not take with a Snowflake-shaped 502 (the connectors retry it).
func (s *Server) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Warn("snowflake upstream request failed", "path", r.URL.Path, "upstream", s.upstream.Host, "err", err)
	writeError(w, http.StatusBadGateway, errorBody{Code: codeUpstream, SQLState: "08001",
		Message: "deferproxy could not reach the Snowflake upstream " + s.upstream.Host + ": " + err.Error()})
}

// Stats is the listener's state for /status: counters and the open sessions.
type Stats struct {
	Active     uint64          `json:"active"`
	Total      uint64          `json:"total"`
	Statements uint64          `json:"statements"`
	Deferrals  uint64          `json:"deferrals"`
	Refusals   uint64          `json:"refusals"`
	Sessions   []SessionStatus `json:"sessions,omitempty"`
}

// SessionStatus is one open Snowflake session. It never carries a token.
type SessionStatus struct {
	ID         uint64    `json:"id"`
	User       string    `json:"user"`
	Database   string    `json:"database,omitempty"`
	Schema     string    `json:"schema,omitempty"`
	Role       string    `json:"role,omitempty"`
	Mode       string    `json:"mode"` // as asked at login; "default": the engine's
	Tag        string    `json:"tag,omitempty"`
	Since      time.Time `json:"since"`
	Statements uint64    `json:"statements"`
	Deferrals  uint64    `json:"deferrals"`
	Refusals   uint64    `json:"refusals"`
}

// Stats returns the counters and the open sessions, by id.
func (s *Server) Stats() Stats {
	st := Stats{Total: s.logins.Load(), Statements: s.statements.Load(), Deferrals: s.deferrals.Load(), Refusals: s.refusals.Load()}
	s.mu.Lock()
	seen := map[*session]bool{}
	for _, ss := range s.byToken {
		if !seen[ss] {
			seen[ss] = true
			st.Sessions = append(st.Sessions, ss.status())
		}
	}
	s.mu.Unlock()
	st.Active = uint64(len(st.Sessions))
	sortSessions(st.Sessions)
	return st
}

// requestToken is the session token of a request's `Authorization: Snowflake Token="…"` header, "" when none.
func requestToken(r *http.Request) string {
	a := r.Header.Get("Authorization")
	const p = `snowflake token="`
	if len(a) < len(p)+1 || !strings.EqualFold(a[:len(p)], p) || a[len(a)-1] != '"' {
		return ""
	}
	return a[len(p) : len(a)-1]
}
