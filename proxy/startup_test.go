package proxy_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"testing"
	"time"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/proxy"
	"github.com/jackc/pgx/v5/pgproto3"
)

// serverTLS is a TLS config for the proxy with the cluster's test certificate.
func serverTLS(t testing.TB, c *pgtest.Cluster) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

func caPool(t testing.TB, c *pgtest.Cluster) *x509.CertPool {
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(pem)
	return p
}

// TestAuthAndTLS runs every auth method, right and wrong password, over every combination of client TLS and
// upstream sslmode.
func TestAuthAndTLS(t *testing.T) {
	c := pgtest.Shared(t)
	upstreams := map[string]string{
		"disable":     fmt.Sprintf("postgres://%s/postgres?sslmode=disable", c.Addr()),
		"prefer":      fmt.Sprintf("postgres://%s/postgres?sslmode=prefer", c.Addr()),
		"require":     fmt.Sprintf("postgres://%s/postgres?sslmode=require", c.Addr()),
		"verify-full": fmt.Sprintf("postgres://localhost:%d/postgres?sslmode=verify-full&sslrootcert=%s", c.Port, c.CAFile),
	}
	users := []struct{ user, pass string }{
		{pgtest.TrustUser, ""}, {pgtest.ClearUser, pgtest.ClearPass}, {pgtest.MD5User, pgtest.MD5Pass},
		{pgtest.ScramUser, pgtest.ScramPass},
	}
	for _, mode := range []string{"disable", "prefer", "require", "verify-full"} {
		for _, clientTLS := range []bool{false, true} {
			cfg := proxy.Config{Upstream: upstreams[mode]}
			extra := "sslmode=disable"
			if clientTLS {
				cfg.TLS = serverTLS(t, c)
				extra = "sslmode=verify-full&sslrootcert=" + c.CAFile
			}
			tp := startProxy(t, c, cfg)
			for _, u := range users {
				name := fmt.Sprintf("upstream=%s/clientTLS=%v/%s", mode, clientTLS, u.user)
				t.Run(name, func(t *testing.T) {
					ctx := ctxT(t)
					conn := connect(t, tp.url(u.user, u.pass, "postgres", extra))
					var user string
					var ssl bool
					if err := conn.QueryRow(ctx, "select current_user, coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false)").Scan(&user, &ssl); err != nil {
						t.Fatal(err)
					}
					if user != u.user || ssl != (mode != "disable") {
						t.Fatalf("user %q ssl %v", user, ssl)
					}
					if clientTLS && !conn.PgConn().Conn().(*tls.Conn).ConnectionState().HandshakeComplete {
						t.Fatal("client connection is not TLS")
					}
					if u.pass == "" {
						return
					}
					// A wrong password gets PostgreSQL's own error.
					_, err := pgxConnect(tp.url(u.user, "wrong", "postgres", extra))
					if pgCode(err) != "28P01" {
						t.Fatalf("wrong password: want 28P01, got %v", err)
					}
				})
			}
		}
	}
}

func TestUpstreamSSLModeErrors(t *testing.T) {
	c := pgtest.Shared(t)
	// verify-full against a name not in the certificate fails, and the client gets 08001.
	tp := startProxy(t, c, proxy.Config{Upstream: fmt.Sprintf("postgres://%s/postgres?sslmode=verify-full", c.Addr())})
	_, err := pgxConnect(tp.url("postgres", "", "", ""))
	if pgCode(err) != "08001" {
		t.Fatalf("want 08001, got %v", err)
	}
	// An upstream that is not listening.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	tp = startProxy(t, c, proxy.Config{Upstream: "postgres://" + dead + "/postgres?sslmode=disable"})
	_, err = pgxConnect(tp.url("postgres", "", "", ""))
	if pgCode(err) != "08001" {
		t.Fatalf("want 08001, got %v", err)
	}
	if _, err := proxy.New(proxy.Config{Upstream: "postgres://x/y?sslmode=bogus"}); err == nil {
		t.Fatal("bad sslmode accepted")
	}
	if _, err := proxy.New(proxy.Config{Upstream: "mysql://x/y"}); err == nil {
		t.Fatal("bad scheme accepted")
	}
}

// rawStartup connects to addr and sends a StartupMessage with the given protocol version and parameters.
func rawFrontend(t *testing.T, addr string) (*pgproto3.Frontend, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return pgproto3.NewFrontend(conn, conn), conn
}

// receiveUntilReady collects backend message types until ReadyForQuery or an error.
func receiveUntilReady(t *testing.T, fe *pgproto3.Frontend) []pgproto3.BackendMessage {
	t.Helper()
	var out []pgproto3.BackendMessage
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			c := *m
			out = append(out, &c)
			return out
		case *pgproto3.ReadyForQuery:
			return append(out, &pgproto3.ReadyForQuery{TxStatus: m.TxStatus})
		case *pgproto3.NegotiateProtocolVersion:
			c := *m
			c.UnrecognizedOptions = append([]string(nil), m.UnrecognizedOptions...)
			out = append(out, &c)
		case *pgproto3.BackendKeyData:
			out = append(out, &pgproto3.BackendKeyData{ProcessID: m.ProcessID, SecretKey: append([]byte(nil), m.SecretKey...)})
		default:
			out = append(out, nil)
		}
	}
}

// TestProtocol32 starts with protocol 3.2 and a _pq_ option: PostgreSQL before 18 answers NegotiateProtocolVersion,
// which the proxy relays as it is.
func TestProtocol32(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{})
	run := func(addr string) []pgproto3.BackendMessage {
		fe, _ := rawFrontend(t, addr)
		fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32,
			Parameters: map[string]string{"user": "postgres", "database": "postgres", "_pq_.test_option": "x",
				"application_name": "p32", "options": "-c search_path=public"}})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		msgs := receiveUntilReady(t, fe)
		fe.Send(&pgproto3.Query{String: "show search_path"})
		_ = fe.Flush()
		var sp string
		for {
			m, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := m.(*pgproto3.DataRow); ok {
				sp = string(d.Values[0])
			}
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				break
			}
		}
		if sp != "public" {
			t.Fatalf("options not forwarded: search_path %q", sp)
		}
		return msgs
	}
	direct, proxied := run(c.Addr()), run(tp.addr)
	var dn, pn *pgproto3.NegotiateProtocolVersion
	for _, m := range direct {
		if n, ok := m.(*pgproto3.NegotiateProtocolVersion); ok {
			dn = n
		}
	}
	for _, m := range proxied {
		if n, ok := m.(*pgproto3.NegotiateProtocolVersion); ok {
			pn = n
		}
	}
	if c.Major >= 18 {
		t.Skip("PostgreSQL 18 speaks 3.2: no NegotiateProtocolVersion to compare")
	}
	if dn == nil || pn == nil || dn.NewestMinorProtocol != pn.NewestMinorProtocol ||
		fmt.Sprint(dn.UnrecognizedOptions) != fmt.Sprint(pn.UnrecognizedOptions) {
		t.Fatalf("NegotiateProtocolVersion direct %+v, proxied %+v", dn, pn)
	}
	if len(direct) != len(proxied) {
		t.Fatalf("startup messages: direct %d, proxied %d", len(direct), len(proxied))
	}
}

// TestSSLNegotiation covers GSSENCRequest ('N'), SSLRequest without TLS configured ('N'), plaintext pipelined after
// an SSLRequest (refused), direct TLS with ALPN, and a bad protocol version.
func TestSSLNegotiation(t *testing.T) {
	c := pgtest.Shared(t)
	plain := startProxy(t, c, proxy.Config{})
	withTLS := startProxy(t, c, proxy.Config{TLS: serverTLS(t, c)})
	oneByte := func(addr string, req []byte) []byte {
		_, conn := rawFrontend(t, addr)
		if _, err := conn.Write(req); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(conn, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	sslReq := []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}
	gssReq := []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}
	if b := oneByte(plain.addr, sslReq); b[0] != 'N' {
		t.Fatalf("SSLRequest without TLS: %q", b)
	}
	if b := oneByte(withTLS.addr, sslReq); b[0] != 'S' {
		t.Fatalf("SSLRequest with TLS: %q", b)
	}
	if b := oneByte(withTLS.addr, gssReq); b[0] != 'N' {
		t.Fatalf("GSSENCRequest: %q", b)
	}
	// Plaintext sent together with the SSLRequest is refused with 08P01, never read as if it came over TLS.
	for _, tp := range []*testProxy{plain, withTLS} {
		fe, conn := rawFrontend(t, tp.addr)
		startup, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
			Parameters: map[string]string{"user": "postgres"}}).Encode(nil)
		if _, err := conn.Write(append(append([]byte{}, sslReq...), startup...)); err != nil {
			t.Fatal(err)
		}
		m, err := fe.Receive()
		if e, ok := m.(*pgproto3.ErrorResponse); err != nil || !ok || e.Code != "08P01" {
			t.Fatalf("pipelined plaintext: %v %#v", err, m)
		}
	}
	// Direct TLS (ALPN "postgresql") works with a TLS config and is refused without ALPN.
	tc := &tls.Config{RootCAs: caPool(t, c), ServerName: "127.0.0.1", NextProtos: []string{"postgresql"}}
	conn, err := tls.Dial("tcp", withTLS.addr, tc)
	if err != nil {
		t.Fatalf("direct TLS: %v", err)
	}
	fe := pgproto3.NewFrontend(conn, conn)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "postgres"}})
	_ = fe.Flush()
	msgs := receiveUntilReady(t, fe)
	if _, ok := msgs[len(msgs)-1].(*pgproto3.ReadyForQuery); !ok {
		t.Fatalf("direct TLS startup: %#v", msgs[len(msgs)-1])
	}
	conn.Close()
	noALPN := &tls.Config{RootCAs: caPool(t, c), ServerName: "127.0.0.1"}
	if conn, err := tls.Dial("tcp", withTLS.addr, noALPN); err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatal("direct TLS without ALPN was accepted")
		}
		conn.Close()
	}
	// Protocol 2.0 is refused as PostgreSQL refuses it.
	fe2, conn2 := rawFrontend(t, plain.addr)
	pkt := make([]byte, 8)
	binary.BigEndian.PutUint32(pkt, 8)
	binary.BigEndian.PutUint32(pkt[4:], 2<<16)
	_, _ = conn2.Write(append(pkt[:8:8], 0))
	binary.BigEndian.PutUint32(pkt, 9)
	m, err := fe2.Receive()
	if e, ok := m.(*pgproto3.ErrorResponse); err != nil || !ok || e.Code != "0A000" {
		t.Fatalf("protocol 2: %v %#v", err, m)
	}
	// A nonsense startup length is answered as PostgreSQL answers it: by closing, with no ErrorResponse
	// (testdata/conformance/startup_malformed.pgt has more).
	fe3, conn3 := rawFrontend(t, plain.addr)
	_, _ = conn3.Write([]byte{0, 0, 0, 4, 1, 2, 3, 4})
	m, err = fe3.Receive()
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("bad length: want the connection closed, got %v %#v", err, m)
	}
	_ = bytes.MinRead
}

// TestReplicationPassThrough runs IDENTIFY_SYSTEM on a physical replication connection through the proxy.
func TestReplicationPassThrough(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{Hook: &testHook{}})
	fe, conn := rawFrontend(t, tp.addr)
	_ = conn
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "postgres", "replication": "true"}})
	_ = fe.Flush()
	msgs := receiveUntilReady(t, fe)
	if _, ok := msgs[len(msgs)-1].(*pgproto3.ReadyForQuery); !ok {
		t.Fatalf("replication startup: %#v", msgs[len(msgs)-1])
	}
	fe.Send(&pgproto3.Query{String: "IDENTIFY_SYSTEM"})
	_ = fe.Flush()
	var cols int
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := m.(*pgproto3.DataRow); ok {
			cols = len(d.Values)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			t.Fatalf("IDENTIFY_SYSTEM: %s", e.Message)
		}
	}
	if cols != 4 {
		t.Fatalf("IDENTIFY_SYSTEM returned %d columns", cols)
	}
}

// selfSigned is a throwaway certificate for 127.0.0.1, different from the upstream's.
func selfSigned(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deferproxy test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// TestSCRAMChannelBindingAcrossProxy: the proxy offers no SCRAM-SHA-256-PLUS when its certificate is not the
// upstream's, so a TLS client that would bind says "y"; a TLS upstream then rejects it (PostgreSQL's downgrade
// protection). With channel_binding=disable the same client logs in. Plaintext clients are unaffected.
func TestSCRAMChannelBindingAcrossProxy(t *testing.T) {
	c := pgtest.Shared(t)
	tp := startProxy(t, c, proxy.Config{TLS: selfSigned(t),
		Upstream: fmt.Sprintf("postgres://%s/postgres?sslmode=require", c.Addr())})
	_, err := pgxConnect(tp.url(pgtest.ScramUser, pgtest.ScramPass, "", "sslmode=require"))
	if pgCode(err) != "28000" {
		t.Fatalf("want 28000 channel binding negotiation error, got %v", err)
	}
	if _, err := pgxConnect(tp.url(pgtest.ScramUser, pgtest.ScramPass, "", "sslmode=require&channel_binding=disable")); err != nil {
		t.Fatalf("channel_binding=disable: %v", err)
	}
	if _, err := pgxConnect(tp.url(pgtest.ScramUser, pgtest.ScramPass, "", "sslmode=disable")); err != nil {
		t.Fatalf("plaintext client: %v", err)
	}
	// The proxy with the upstream's own certificate keeps PLUS, and channel binding works end to end.
	same := startProxy(t, c, proxy.Config{TLS: serverTLS(t, c),
		Upstream: fmt.Sprintf("postgres://%s/postgres?sslmode=require", c.Addr())})
	if _, err := pgxConnect(same.url(pgtest.ScramUser, pgtest.ScramPass, "", "sslmode=require&channel_binding=require")); err != nil {
		t.Fatalf("channel binding with the upstream's certificate: %v", err)
	}
}
