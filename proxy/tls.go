package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"time"
)

// alpnPostgres is the ALPN protocol PostgreSQL 17 requires for direct TLS connections.
const alpnPostgres = "postgresql"

// clientTLSConfig clones the configured client TLS config and offers the "postgresql" ALPN protocol: required for
// direct TLS (PostgreSQL 17's sslnegotiation=direct), harmless for TLS after an SSLRequest.
func clientTLSConfig(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	c = c.Clone()
	has := false
	for _, p := range c.NextProtos {
		has = has || p == alpnPostgres
	}
	if !has {
		c.NextProtos = append(c.NextProtos, alpnPostgres)
	}
	return c
}

// prefixConn is a net.Conn that returns already-read bytes before reading the connection again: the first bytes of a
// direct TLS handshake are read while deciding what kind of connection it is.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// dialUpstream connects to the upstream and negotiates TLS per sslmode.
func (s *Server) dialUpstream(ctx context.Context) (net.Conn, error) {
	up := s.up
	d := net.Dialer{Timeout: s.cfg.HandshakeTimeout, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(ctx, up.network, up.address)
	if err != nil {
		return nil, fmt.Errorf("connect to upstream %s: %w", up.address, err)
	}
	if up.mode == sslDisable {
		return c, nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	// SSLRequest, then exactly one byte: reading nothing more means plaintext the server sent before the TLS
	// handshake can never be taken for TLS-protected data (CVE-2021-23222).
	if _, err := c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		c.Close()
		return nil, fmt.Errorf("upstream %s: send SSLRequest: %w", up.address, err)
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return nil, fmt.Errorf("upstream %s: read SSL response: %w", up.address, err)
	}
	switch b[0] {
	case 'S':
		tc := tls.Client(c, up.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("upstream %s: TLS handshake: %w", up.address, err)
		}
		_ = c.SetDeadline(time.Time{})
		return tc, nil
	case 'N':
		if up.mode == sslPrefer {
			_ = c.SetDeadline(time.Time{})
			return c, nil
		}
		c.Close()
		return nil, fmt.Errorf("upstream %s does not support TLS, but the upstream URL's sslmode requires it", up.address)
	default:
		c.Close()
		return nil, fmt.Errorf("upstream %s: unexpected answer %q to SSLRequest", up.address, b[0])
	}
}
