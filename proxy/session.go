package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// aLongTimeAgo is a deadline in the past: setting it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// session is one client connection and its upstream connection. Its goroutine runs the startup, then reads the client
// (clientSide); a second goroutine reads the upstream (serverSide) and is the only writer to the client afterwards.
type session struct {
	s      *Server
	id     uint64
	ctx    context.Context // done when the session ends
	cancel context.CancelFunc
	// started is when the connection was accepted; unauth holds while it counts against MaxUnauthenticated (until
	// authentication ends, or it is evicted); slot holds while it has one of MaxClientConns.
	started time.Time
	unauth  atomic.Bool
	slot    bool

	mu     sync.Mutex // guards client and up while they are being set up
	client net.Conn
	up     net.Conn

	info SessionInfo
	hook SessionHook
	key  *cancelKey

	fatal       atomic.Pointer[[]byte] // set by kill: the FATAL the client gets before the session ends
	clientDone  atomic.Bool            // the client side ended: nothing more is written to the client
	terminating atomic.Bool            // the client sent Terminate: the upstream closing is expected

	// In-flight accounting: statements (Query, Sync, FunctionCall) sent upstream versus ReadyForQuery seen. A client
	// that vanishes with statements in flight gets them cancelled upstream.
	syncsSent atomic.Uint64
	zSeen     atomic.Uint64

	hooked hookState
	// idleSeg is the last statement segment whose ReadyForQuery said idle (its portals are gone); upDone is closed
	// when the upstream side ends. Both for re-prepares (prepared.go).
	idleSeg atomic.Uint64
	upDone  chan struct{}

	clientLeft, upLeft []byte // read ahead during startup, handed to the pumps
	// serverParams are the ParameterStatus values of startup and the search_path the proxy asked for, in order,
	// told to a ParameterHook before the pumps start.
	serverParams [][2]string
}

func (s *Server) newSession(ctx context.Context, c net.Conn) *session {
	sctx, cancel := context.WithCancel(ctx)
	ss := &session{s: s, id: s.nextID.Add(1), ctx: sctx, cancel: cancel, client: c, started: time.Now()}
	ss.unauth.Store(true)
	s.stats.unauth.Add(1)
	s.mu.Lock()
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	return ss
}

// serve runs the whole session.
func (ss *session) serve() {
	defer ss.finish()
	defer ss.recoverPanic("client side")
	err := ss.handshake()
	ss.releaseUnauth()
	if err != nil {
		var refused *errUpstreamRefused
		switch {
		case errors.Is(err, errCancelRequest):
		case errors.As(err, &refused):
			ss.s.log.Debug("session refused by upstream", "session", ss.id, "code", refused.code)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			ss.s.log.Debug("client left during startup", "session", ss.id)
		default:
			ss.s.log.Info("session startup failed", "session", ss.id, "remote", ss.client.RemoteAddr().String(), "err", err)
		}
		return
	}
	ss.loop()
}

// errCancelRequest ends a connection that carried a CancelRequest.
var errCancelRequest = errors.New("cancel request")

// handshake negotiates TLS and GSS encryption with the client, reads the StartupMessage, connects the upstream and
// relays authentication until the first ReadyForQuery.
func (ss *session) handshake() error {
	cfg := &ss.s.cfg
	deadline := time.Now().Add(cfg.HandshakeTimeout)
	_ = ss.client.SetDeadline(deadline)
	cr := newMsgReader(ss.client)
	encrypted := false

	// Direct TLS (PostgreSQL 17's sslnegotiation=direct): a TLS ClientHello instead of a startup packet.
	if ss.s.tls != nil {
		b, err := cr.peekByte()
		if err != nil {
			return err
		}
		if b == 0x16 {
			prefix := append([]byte(nil), cr.leftover()...)
			tc := tls.Server(&prefixConn{Conn: ss.client, prefix: prefix}, ss.s.tls)
			if err := tc.Handshake(); err != nil {
				return fmt.Errorf("direct TLS handshake: %w", err)
			}
			if tc.ConnectionState().NegotiatedProtocol != alpnPostgres {
				return errors.New("direct TLS connection without ALPN protocol \"postgresql\"")
			}
			ss.setClient(tc)
			cr = newMsgReader(tc)
			encrypted = true
		}
	}

	var pkt []byte
	for pkt == nil {
		p, err := cr.packet()
		if err != nil {
			// An impossible length (a Terminate sent before any startup packet, say) or a packet cut short: like
			// PostgreSQL's ProcessStartupPacket, log it and close without an answer — the client has not spoken the
			// protocol yet, and an ErrorResponse would be raised as an error by clients that are just hanging up.
			return err
		}
		kind, code := classifyStartup(p)
		switch kind {
		case kindSSL, kindGSSENC:
			if cr.buffered() > 0 {
				// Bytes sent before the TLS handshake would be taken as if they had come over TLS (CVE-2021-23214).
				msg := "received unencrypted data after SSL request"
				if kind == kindGSSENC {
					msg = "received unencrypted data after GSSAPI encryption request"
				}
				ss.writeClient(fatal(codeProtocolViolation, msg))
				return errors.New(msg)
			}
			if encrypted || kind == kindGSSENC || ss.s.tls == nil {
				if err := ss.writeClient([]byte{'N'}); err != nil {
					return err
				}
				continue
			}
			if err := ss.writeClient([]byte{'S'}); err != nil {
				return err
			}
			tc := tls.Server(ss.client, ss.s.tls)
			if err := tc.Handshake(); err != nil {
				return fmt.Errorf("TLS handshake: %w", err)
			}
			ss.setClient(tc)
			cr = newMsgReader(tc)
			encrypted = true
		case kindCancel:
			pid, secret, err := parseCancel(p)
			if err != nil {
				return err
			}
			if k, ok := ss.s.cancels.lookup(pid, secret); ok {
				if err := ss.s.sendCancel(ss.ctx, k); err != nil {
					ss.s.log.Warn("forward cancel request", "err", err)
				}
			}
			return errCancelRequest
		case kindBadVersion:
			msg := fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.2", code>>16, code&0xffff)
			ss.writeClient(fatal(codeFeatureNotSupported, msg))
			return errors.New(msg)
		default:
			pkt = append([]byte(nil), p...)
		}
	}
	params, err := startupParams(pkt)
	if err != nil {
		var fe *errFrame
		if errors.As(err, &fe) {
			ss.writeClient(fatal(fe.sqlstate(), fe.msg))
		}
		return err
	}
	if ss.slot = ss.s.takeClientSlot(); !ss.slot {
		ss.s.stats.rejected.Add(1)
		ss.writeClient(fatal(codeTooManyConnections, "sorry, too many clients already"))
		return errors.New("too many clients")
	}
	ss.info = SessionInfo{
		ID:              ss.id,
		User:            params["user"],
		Database:        params["database"],
		ApplicationName: params["application_name"],
		Params:          params,
		RemoteAddr:      ss.client.RemoteAddr(),
	}
	if ss.info.Database == "" {
		ss.info.Database = ss.info.User
	}

	dctx, cancel := context.WithDeadline(ss.ctx, deadline)
	up, err := ss.s.dialUpstream(dctx)
	cancel()
	if err != nil {
		ss.s.log.Warn("upstream unreachable", "session", ss.id, "err", err)
		ss.writeClient(errorMessage("FATAL", codeCannotConnect, "deferproxy could not connect to the upstream server",
			err.Error(), "Check that the upstream PostgreSQL server is running and that deferproxy's upstream URL is right."))
		return err
	}
	if !ss.setUp(up) {
		up.Close()
		return errors.New("session ended during startup")
	}
	_ = up.SetDeadline(deadline)
	if _, err := up.Write(withoutTag(pkt, params)); err != nil {
		return fmt.Errorf("send startup packet upstream: %w", err)
	}
	ur := newMsgReader(up)
	if err := ss.relayAuth(cr, ur); err != nil {
		return err
	}
	if ss.s.cfg.Hook != nil && !isReplication(params) {
		if err := ss.askSearchPath(ur); err != nil {
			return err
		}
	}
	_ = ss.client.SetDeadline(time.Time{})
	_ = up.SetDeadline(time.Time{})
	ss.clientLeft = append([]byte(nil), cr.leftover()...)
	ss.upLeft = append([]byte(nil), ur.leftover()...)
	return nil
}

func (ss *session) setClient(c net.Conn) {
	ss.mu.Lock()
	ss.client = c
	ss.mu.Unlock()
}

// setUp records the upstream connection; false when the session was killed meanwhile.
func (ss *session) setUp(c net.Conn) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.fatal.Load() != nil {
		return false
	}
	ss.up = c
	return true
}

// writeClient writes during startup, when the session goroutine is the only writer.
func (ss *session) writeClient(b []byte) error {
	_, err := ss.client.Write(b)
	return err
}

// loop runs the established session: the client side here, the upstream side on a second goroutine.
func (ss *session) loop() {
	s := ss.s
	if s.cfg.Hook != nil && !isReplication(ss.info.Params) {
		ss.hook = s.cfg.Hook.OpenSession(ss.ctx, ss.info)
		if ph, ok := ss.hook.(ParameterHook); ok {
			for _, kv := range ss.serverParams {
				ph.Parameter(kv[0], kv[1])
			}
		}
	}
	ss.serverParams = nil
	s.log.Debug("session started", "session", ss.id, "user", ss.info.User, "database", ss.info.Database,
		"application_name", ss.info.ApplicationName, "remote", ss.info.RemoteAddr.String())

	cs := &clientSide{ss: ss}
	us := &serverSide{ss: ss}
	us.hinter, _ = ss.hook.(ErrorHinter)
	cw, uw := &watchClientPlain, &watchServerPlain
	if ss.hook != nil {
		cw, uw = &watchClientHook, &watchServerHook
	}
	c2u := newPump(ss.client, ss.up, cw, cs, s.cfg.MaxMessageSize, s.cfg.MaxMessageSize)
	u2c := newPump(ss.up, ss.client, uw, us, 0, s.cfg.MaxMessageSize)
	c2u.preload(ss.clientLeft)
	u2c.preload(ss.upLeft)
	ss.clientLeft, ss.upLeft = nil, nil
	if s.cfg.IdleTimeout > 0 {
		c2u.idle = s.cfg.IdleTimeout
	}

	done := make(chan struct{})
	ss.upDone = done
	if c, ok := ss.hook.(StatementChecker); ok {
		cs.prep.checker = c
	}
	go func() {
		defer close(done)
		defer ss.recoverPanic("upstream side")
		ss.upstreamSide(u2c)
	}()
	ss.clientSide(c2u, cs)
	<-done
	s.stats.fromClients.Add(c2u.nread)
	s.stats.toClients.Add(u2c.nread)
	c2u.free()
	u2c.free()
}

// clientSide pumps client→upstream until the client leaves, then cleans up the upstream.
func (ss *session) clientSide(p *pump, cs *clientSide) {
	var err error
	for {
		err = p.run()
		if p.idle > 0 && isTimeout(err) && ss.fatal.Load() == nil {
			if ss.inflight() {
				continue // a long statement, not an idle session
			}
			ss.kill(fatal(codeIdleSessionTimeout, "terminating connection due to idle-session timeout"))
		}
		break
	}
	var fe *errFrame
	var we *errWrite
	switch {
	case cs.terminated:
	case errors.As(err, &fe):
		ss.s.log.Info("protocol violation from client; closing session", "session", ss.id, "err", fe.msg)
		ss.kill(fatal(fe.sqlstate(), fe.msg))
	case errors.As(err, &we):
		ss.s.log.Debug("write to upstream failed", "session", ss.id, "err", we.err)
	case ss.fatal.Load() != nil:
	default:
		ss.s.log.Debug("client connection ended", "session", ss.id, "err", err)
	}
	if we == nil {
		ss.clientDone.Store(true) // (when the upstream failed, the upstream side tells the client: 08006)
	}
	if !cs.terminated && we == nil && ss.inflight() && ss.key != nil {
		// The client is gone (or was sent away) while a statement runs: PostgreSQL would only notice when it writes
		// the result, so cancel it now.
		if cerr := ss.s.sendCancel(context.Background(), ss.key); cerr != nil {
			ss.s.log.Warn("cancel the statement of a vanished client", "session", ss.id, "err", cerr)
		}
	}
	if ss.fatal.Load() == nil {
		ss.up.Close()
	} else {
		// The upstream side writes the FATAL, then closes; make sure it wakes up.
		_ = ss.up.SetReadDeadline(aLongTimeAgo)
	}
}

// upstreamSide pumps upstream→client; when the upstream ends it tells the client why, then closes the client.
func (ss *session) upstreamSide(p *pump) {
	err := p.run()
	var we *errWrite
	var fe *errFrame
	switch {
	case ss.fatal.Load() != nil:
		if p.atBoundary() {
			p.emit(*ss.fatal.Load())
			_ = ss.client.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if p.flush() == nil {
				ss.lingerClose()
			}
		}
	case errors.As(err, &we), ss.clientDone.Load(), ss.terminating.Load():
	case errors.As(err, &fe):
		ss.s.log.Warn("protocol violation from the upstream; closing session", "session", ss.id, "err", fe.msg)
		if p.atBoundary() {
			p.emit(fatal(codeProtocolViolation, "invalid message from the upstream server: "+fe.msg))
			_ = ss.client.SetWriteDeadline(time.Now().Add(2 * time.Second))
			_ = p.flush()
		}
	default:
		ss.s.log.Info("upstream connection lost", "session", ss.id, "err", err)
		if p.atBoundary() && p.last != 'E' {
			p.emit(fatal(codeConnectionFailure, "lost connection to the upstream server"))
			_ = ss.client.SetWriteDeadline(time.Now().Add(2 * time.Second))
			_ = p.flush()
		}
	}
	ss.client.Close()
	ss.up.Close()
}

// recoverPanic keeps a panic (in a Hook, say) from taking the whole proxy down: the session ends with XX000, the
// others go on.
func (ss *session) recoverPanic(where string) {
	if r := recover(); r != nil {
		ss.s.log.Error("panic in session; closing it", "session", ss.id, "where", where, "panic", fmt.Sprint(r),
			"stack", string(debug.Stack()))
		ss.kill(fatal("XX000", "internal error in deferproxy; the session was closed"))
		ss.clientDone.Store(true)
		ss.mu.Lock()
		if ss.up != nil {
			_ = ss.up.SetReadDeadline(aLongTimeAgo)
		}
		if where == "upstream side" {
			ss.client.Close() // the upstream side is the client's writer, and it is gone
		}
		ss.mu.Unlock()
	}
}

// lingerClose ends the client connection after a FATAL so that the client can read it: closing a socket with unread
// input makes the kernel send a reset, which can destroy the FATAL before the client reads it (a client writing an
// oversized message is still writing). So: half-close, discard what is still coming for a moment, then close.
func (ss *session) lingerClose() {
	type closeWriter interface{ CloseWrite() error }
	if cw, ok := ss.client.(closeWriter); ok {
		_ = cw.CloseWrite()
	}
	_ = ss.client.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.CopyN(io.Discard, ss.client, 64<<20)
}

// inflight reports statements sent upstream whose ReadyForQuery has not come back.
func (ss *session) inflight() bool { return ss.syncsSent.Load() > ss.zSeen.Load() }

// kill ends the session: the client gets msg (a FATAL ErrorResponse) at the next message boundary.
func (ss *session) kill(msg []byte) {
	if !ss.fatal.CompareAndSwap(nil, &msg) {
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.up == nil {
		ss.client.Close() // still in startup
		return
	}
	_ = ss.up.SetReadDeadline(aLongTimeAgo)
}

// closeConns closes both connections.
func (ss *session) closeConns() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.client.Close()
	if ss.up != nil {
		ss.up.Close()
	}
}

// releaseUnauth stops counting the session against MaxUnauthenticated; it reports whether it still counted.
func (ss *session) releaseUnauth() bool {
	if ss.unauth.CompareAndSwap(true, false) {
		ss.s.stats.unauth.Add(-1)
		return true
	}
	return false
}

// finish releases everything the session held.
func (ss *session) finish() {
	ss.closeConns()
	ss.cancel()
	ss.releaseUnauth()
	if ss.slot {
		ss.s.stats.clients.Add(-1)
	}
	if ss.hook != nil {
		ss.hook.Close()
	}
	if ss.key != nil {
		ss.s.cancels.remove(ss.key)
	}
	s := ss.s
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
	s.stats.active.Add(-1)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("session ended", "session", ss.id)
	}
}
