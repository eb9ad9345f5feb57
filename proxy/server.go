// Package proxy is deferproxy's PostgreSQL front end: a transparent wire proxy that relays startup, TLS and
// authentication to one upstream server, forwards every message it does not inspect as raw bytes, and lets a Hook see
// and change the text of every Query and Parse.
package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Server. Zero values get the documented defaults.
type Config struct {
	Listen         string      // "127.0.0.1:6432"
	Upstream       string      // postgres://host:port/db?sslmode=disable|prefer|require|verify-full&sslrootcert=…
	TLS            *tls.Config // TLS to clients; nil = answer 'N' to SSLRequest
	MaxMessageSize int         // default 1 GiB
	MaxClientConns int         // default 1000; past it: FATAL 53300
	// MaxUnauthenticated bounds the connections still in startup or authentication (default 100); past it the
	// oldest of them is closed. They take no client slot until their startup packet names a user.
	MaxUnauthenticated int
	HandshakeTimeout   time.Duration // default 30s
	IdleTimeout        time.Duration // 0 = none
	Logger             *slog.Logger
	Hook               Hook // nil = pure pass-through
}

// Defaults.
const (
	DefaultListen             = "127.0.0.1:6432"
	DefaultMaxMessageSize     = 1 << 30
	DefaultMaxClientConns     = 1000
	DefaultMaxUnauthenticated = 100
	DefaultHandshakeTimeout   = 30 * time.Second
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or when their context is done.
var ErrServerClosed = errors.New("proxy: server closed")

// Stats are the server's counters.
type Stats struct {
	Active           uint64 // sessions open now (handshaking or established)
	Unauthenticated  uint64 // of them, those still in startup or authentication
	Evicted          uint64 // unauthenticated connections closed to make room past MaxUnauthenticated
	Total            uint64 // sessions accepted since start
	Rejected         uint64 // connections refused with 53300
	Cancels          uint64 // cancel requests forwarded upstream
	BytesFromClients uint64 // bytes read from clients by ended sessions' message loops
	BytesToClients   uint64 // bytes read from the upstream for clients by ended sessions' message loops
}

type serverStats struct {
	active, total, rejected, cancels atomic.Int64
	unauth, clients, evicted         atomic.Int64 // clients: client slots taken (at the startup packet)
	fromClients, toClients           atomic.Uint64
}

// Server is a PostgreSQL wire proxy. Its lifecycle follows net/http's Server.
type Server struct {
	cfg     Config
	up      *upstream
	tls     *tls.Config
	log     *slog.Logger
	cancels *cancelRegistry
	stats   serverStats

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	addr      net.Addr
	closed    bool
	nextID    atomic.Uint64
}

// New checks cfg and returns a Server. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxClientConns <= 0 {
		cfg.MaxClientConns = DefaultMaxClientConns
	}
	if cfg.MaxUnauthenticated <= 0 {
		cfg.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.IdleTimeout < 0 {
		return nil, fmt.Errorf("idle timeout %s is negative: use 0 for none", cfg.IdleTimeout)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	up, err := parseUpstream(cfg.Upstream)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:       cfg,
		up:        up,
		tls:       clientTLSConfig(cfg.TLS),
		log:       cfg.Logger,
		cancels:   newCancelRegistry(),
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[*session]struct{}),
	}, nil
}

// ListenAndServe listens on cfg.Listen and serves until ctx is done or Shutdown is called.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts client connections on ln. When ctx is done, Serve stops accepting and ends every session at once
// (57P01); use Shutdown for a graceful stop. Serve always closes ln, and returns ErrServerClosed after Shutdown or
// once ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	if s.addr == nil {
		s.addr = ln.Addr()
	}
	s.mu.Unlock()
	s.log.Info("proxy listening", "addr", ln.Addr().String(), "upstream", s.up.address)

	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.killAll("terminating connection due to administrator command")
	})
	defer stop()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()

	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			if ctx.Err() != nil {
				return ErrServerClosed
			}
			if isTimeout(err) || isTemporaryAccept(err) {
				// Out of file descriptors and the like: back off as net/http does.
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		delay = 0
		s.stats.total.Add(1)
		n := s.stats.active.Add(1)
		if n > 2*int64(s.cfg.MaxClientConns)+int64(s.cfg.MaxUnauthenticated) {
			// Far past the limit: do not even spend a handshake on it.
			s.stats.active.Add(-1)
			s.stats.rejected.Add(1)
			c.Close()
			continue
		}
		if s.stats.unauth.Load() >= int64(s.cfg.MaxUnauthenticated) {
			s.evictOldestUnauthenticated()
		}
		sess := s.newSession(ctx, c)
		go sess.serve()
	}
}

// evictOldestUnauthenticated closes the connection that has been in startup or authentication the longest, to make
// room for a new one: sockets that connect and say nothing cannot keep real clients out, and a real handshake takes
// milliseconds, so it is rarely the oldest.
func (s *Server) evictOldestUnauthenticated() {
	s.mu.Lock()
	var oldest *session
	for ss := range s.sessions {
		if ss.unauth.Load() && (oldest == nil || ss.started.Before(oldest.started)) {
			oldest = ss
		}
	}
	s.mu.Unlock()
	if oldest != nil && oldest.releaseUnauth() {
		s.stats.evicted.Add(1)
		oldest.closeConns()
	}
}

// takeClientSlot reserves one of MaxClientConns for a session whose startup packet arrived; false when none is left.
func (s *Server) takeClientSlot() bool {
	for {
		n := s.stats.clients.Load()
		if n >= int64(s.cfg.MaxClientConns) {
			return false
		}
		if s.stats.clients.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Addr is the address of the first listener; nil until Serve has started.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Shutdown stops accepting, lets sessions end on their own until ctx is done, then ends the remaining ones with FATAL
// 57P01 and waits for them to close. It returns ctx's error when sessions had to be ended.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.log.Info("proxy shutting down", "sessions", s.stats.active.Load())
	if s.waitIdle(ctx) {
		return nil
	}
	s.killAll("terminating connection due to administrator command")
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !s.waitIdle(wctx) {
		s.mu.Lock()
		for sess := range s.sessions {
			sess.closeConns()
		}
		s.mu.Unlock()
	}
	return ctx.Err()
}

// waitIdle waits until no session is left or ctx is done.
func (s *Server) waitIdle(ctx context.Context) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		n := len(s.sessions)
		s.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// killAll ends every session with FATAL 57P01.
func (s *Server) killAll(msg string) {
	b := fatal(codeAdminShutdown, msg)
	s.mu.Lock()
	defer s.mu.Unlock()
	for sess := range s.sessions {
		sess.kill(b)
	}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Active:           uint64(s.stats.active.Load()),
		Unauthenticated:  uint64(s.stats.unauth.Load()),
		Evicted:          uint64(s.stats.evicted.Load()),
		Total:            uint64(s.stats.total.Load()),
		Rejected:         uint64(s.stats.rejected.Load()),
		Cancels:          uint64(s.stats.cancels.Load()),
		BytesFromClients: s.stats.fromClients.Load(),
		BytesToClients:   s.stats.toClients.Load(),
	}
}
