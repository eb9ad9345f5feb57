package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/deferproxy/deferproxy/secret"
)

// sslMode is how the proxy negotiates TLS with the upstream, with libpq's meanings.
type sslMode int

const (
	sslDisable    sslMode = iota // plaintext only
	sslPrefer                    // TLS when the server offers it, no verification
	sslRequire                   // TLS or fail; verifies the chain only when sslrootcert is given (as libpq)
	sslVerifyCA                  // TLS, chain verified
	sslVerifyFull                // TLS, chain and host name verified
)

// upstream is the parsed Config.Upstream.
type upstream struct {
	network  string // "tcp" or "unix"
	address  string // host:port or socket path
	host     string
	port     int
	database string // default database named in the URL (informational: startup parameters pass unchanged)
	mode     sslMode
	tls      *tls.Config // nil when mode is sslDisable
}

// parseUpstream parses a postgres:// URL: host, port, default database, sslmode and sslrootcert. A host starting with
// "/" (given as ?host=/path) is a unix socket directory, as in libpq.
func parseUpstream(raw string) (*upstream, error) {
	if raw == "" {
		return nil, fmt.Errorf("upstream is empty: set it to a URL such as postgres://db.example.com:5432/analytics?sslmode=require")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error prints the whole URL, password included: only its reason is kept.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("upstream URL %q does not parse: %v", secret.DSN(raw), err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("upstream URL %q: scheme must be postgres:// or postgresql://", secret.DSN(raw))
	}
	q := u.Query()
	up := &upstream{host: u.Hostname(), port: 5432, database: strings.TrimPrefix(u.Path, "/")}
	if h := q.Get("host"); h != "" {
		up.host = h
	}
	if p := u.Port(); p != "" {
		up.port, err = strconv.Atoi(p)
		if err != nil || up.port <= 0 || up.port > 65535 {
			return nil, fmt.Errorf("upstream URL %q: bad port %q", secret.DSN(raw), p)
		}
	}
	if p := q.Get("port"); p != "" {
		up.port, err = strconv.Atoi(p)
		if err != nil || up.port <= 0 || up.port > 65535 {
			return nil, fmt.Errorf("upstream URL %q: bad port %q", secret.DSN(raw), p)
		}
	}
	if up.host == "" {
		up.host = "localhost"
	}
	if strings.HasPrefix(up.host, "/") {
		up.network = "unix"
		up.address = fmt.Sprintf("%s/.s.PGSQL.%d", strings.TrimSuffix(up.host, "/"), up.port)
	} else {
		up.network = "tcp"
		up.address = net.JoinHostPort(up.host, strconv.Itoa(up.port))
	}
	switch m := q.Get("sslmode"); m {
	case "disable":
		up.mode = sslDisable
	case "", "prefer", "allow":
		// libpq's default is prefer; "allow" (plaintext first) is treated as prefer: the proxy never retries.
		up.mode = sslPrefer
	case "require":
		up.mode = sslRequire
	case "verify-ca":
		up.mode = sslVerifyCA
	case "verify-full":
		up.mode = sslVerifyFull
	default:
		return nil, fmt.Errorf("upstream URL %q: unknown sslmode %q (use disable, prefer, require, verify-ca or verify-full)", secret.DSN(raw), m)
	}
	if up.network == "unix" {
		up.mode = sslDisable // TLS is never used over unix sockets
	}
	if up.mode == sslDisable {
		return up, nil
	}
	var roots *x509.CertPool
	if rc := q.Get("sslrootcert"); rc != "" && rc != "system" {
		pem, err := os.ReadFile(rc)
		if err != nil {
			return nil, fmt.Errorf("upstream sslrootcert: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("upstream sslrootcert %s: no PEM certificates found", rc)
		}
		if up.mode == sslRequire {
			up.mode = sslVerifyCA // libpq: require with a root certificate verifies the chain
		}
	} else if rc == "system" && up.mode < sslVerifyCA {
		up.mode = sslVerifyFull
	}
	cfg := &tls.Config{ServerName: up.host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	switch up.mode {
	case sslPrefer, sslRequire:
		cfg.InsecureSkipVerify = true
	case sslVerifyCA:
		// Verify the chain but not the host name, like libpq's verify-ca.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("upstream presented no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	up.tls = cfg
	return up, nil
}
