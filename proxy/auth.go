package proxy

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
)

// Authentication request codes relayed from the upstream.
const (
	authOK           = 0
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
	authGSSContinue  = 8
)

// errUpstreamRefused ends a session whose startup the upstream answered with an ErrorResponse (wrong password, unknown
// database …). The client has already received PostgreSQL's own error.
type errUpstreamRefused struct{ code string }

func (e *errUpstreamRefused) Error() string {
	return "upstream refused the session: SQLSTATE " + e.code
}

// relayAuth relays the upstream's side of startup to the client until ReadyForQuery: authentication requests and the
// client's answers (trust, cleartext, md5, SCRAM-SHA-256 — the proxy never sees a password in the clear unless the
// server asks the client for one, and never keeps or logs it), ParameterStatus, NegotiateProtocolVersion, notices, and
// BackendKeyData, whose secret is replaced by a proxy-issued one (the backend's PID passes unchanged).
func (ss *session) relayAuth(cr, ur *msgReader) error {
	var out []byte
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		_, err := ss.client.Write(out)
		out = out[:0]
		if err != nil {
			return fmt.Errorf("write to client: %w", err)
		}
		return nil
	}
	for {
		msg, err := ur.message(ss.s.cfg.MaxMessageSize)
		if err != nil {
			_ = flush()
			_, _ = ss.client.Write(fatal(codeConnectionFailure, "lost connection to the upstream server during startup"))
			return fmt.Errorf("upstream during startup: %w", err)
		}
		typ, body := msg[0], msg[5:]
		switch typ {
		case 'R':
			if len(body) < 4 {
				return &errFrame{msg: "upstream sent a short authentication request"}
			}
			switch binary.BigEndian.Uint32(body) {
			case authOK, authSASLFinal:
				out = append(out, msg...)
				continue
			case authSASL:
				if !ss.sameCertificate() {
					msg = stripChannelBinding(msg)
				}
				out = append(out, msg...)
			default: // cleartext, md5, SASL continue, GSS/SSPI: the client answers
				out = append(out, msg...)
			}
			if err := flush(); err != nil {
				return err
			}
			cm, err := cr.message(maxAuthMessage)
			if err != nil {
				return fmt.Errorf("client during authentication: %w", err)
			}
			if cm[0] != 'p' {
				return &errFrame{msg: fmt.Sprintf("expected password response, got message type %q", cm[0])}
			}
			if _, err := ss.up.Write(cm); err != nil {
				return fmt.Errorf("write to upstream: %w", err)
			}
		case 'K':
			if len(body) < 8 {
				return &errFrame{msg: "upstream sent a short BackendKeyData"}
			}
			pid := binary.BigEndian.Uint32(body)
			key, err := ss.s.cancels.issue(ss.id, pid, body[4:])
			if err != nil {
				return err
			}
			ss.key = key
			k := make([]byte, 9, 9+len(key.secret))
			k[0] = 'K'
			binary.BigEndian.PutUint32(k[1:], uint32(8+len(key.secret)))
			binary.BigEndian.PutUint32(k[5:], pid)
			out = append(out, append(k, key.secret...)...)
		case 'E':
			out = append(out, msg...)
			if err := flush(); err != nil {
				return err
			}
			return &errUpstreamRefused{code: errorCode(body)}
		case 'Z':
			out = append(out, msg...)
			return flush()
		case 'S':
			if name, value, ok := parameterStatus(body); ok {
				ss.serverParams = append(ss.serverParams, [2]string{name, value})
			}
			out = append(out, msg...)
		default: // NegotiateProtocolVersion, NoticeResponse
			out = append(out, msg...)
		}
	}
}

// sameCertificate reports whether the client's TLS connection ended at the proxy with the very certificate the upstream
// presented to the proxy. Channel binding (tls-server-end-point) hashes the server certificate, so then it works
// through the proxy and SCRAM-SHA-256-PLUS may stay on offer.
func (ss *session) sameCertificate() bool {
	ct, ok := ss.client.(*tls.Conn)
	if !ok || ss.s.tls == nil || len(ss.s.tls.Certificates) != 1 || len(ss.s.tls.Certificates[0].Certificate) == 0 {
		return false
	}
	ut, ok := ss.up.(*tls.Conn)
	if !ok || !ct.ConnectionState().HandshakeComplete {
		return false
	}
	peer := ut.ConnectionState().PeerCertificates
	return len(peer) > 0 && bytes.Equal(peer[0].Raw, ss.s.tls.Certificates[0].Certificate[0])
}

// stripChannelBinding removes SCRAM-SHA-256-PLUS from an AuthenticationSASL message: channel binding ties the SCRAM
// exchange to one TLS connection, and the client's TLS connection ends at the proxy, so a client that chose PLUS would
// always fail — unless the proxy presents the upstream's own certificate (sameCertificate). A client on TLS that sees
// no PLUS sends the "y" flag, which a TLS upstream rejects ("SCRAM channel binding negotiation error"): such clients
// need channel_binding=disable, or the proxy must present the upstream's certificate. The message is returned unchanged when it offers no PLUS mechanism.
func stripChannelBinding(msg []byte) []byte {
	if len(msg) < 9 || !bytes.Contains(msg, []byte("-PLUS\x00")) {
		return msg
	}
	out := make([]byte, 0, len(msg))
	out = append(out, msg[:9]...) // type, length (fixed below), auth code
	rest := msg[9:]
	for len(rest) > 0 && rest[0] != 0 {
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return msg // malformed: let the client judge it
		}
		mech := rest[:i]
		if !bytes.HasSuffix(mech, []byte("-PLUS")) {
			out = append(out, rest[:i+1]...)
		}
		rest = rest[i+1:]
	}
	out = append(out, 0)
	binary.BigEndian.PutUint32(out[1:5], uint32(len(out)-1))
	return out
}
