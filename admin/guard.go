package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The admin listener changes what every new session does (POST /mode) and shows the proxy's state, so a web page
// the operator happens to visit must not reach it: requests are checked here before any route runs (SPEC §10).
//
//   - Host: a name the listener does not know is refused (421) on every route but /healthz and /readyz, which
//     probes call by whatever address they were given. A DNS-rebinding page reaches the listener under the
//     attacker's name; an IP literal cannot be rebound, so IPs are accepted, and so are localhost, the listen
//     address's name and Config.Hosts (admin_hosts).
//   - Origin: a state change (POST, PUT, DELETE, PATCH) that a browser marks as coming from another site
//     (Sec-Fetch-Site cross-site or same-site, or an Origin other than the request's own host) is refused (403).
//     Clients that are not browsers (curl, deferproxy exec) send neither header and pass.
//   - Token: with Config.Token (admin_token) set, every route but /healthz and /readyz needs it, as
//     "Authorization: Bearer <token>" or, for the page, the cookie set by entering it once in the page's form.

// cookieName is the page's session cookie: an HMAC of the token, never the token itself.
const cookieName = "deferproxy_admin"

// probes are the routes that answer without a token and under any Host: liveness and readiness probes.
func probe(path string) bool { return path == "/healthz" || path == "/readyz" }

// guard wraps the routes with the Host, Origin and token checks.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probe(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.knownHost(r.Host) {
			s.cfg.Logger.Warn("admin: request for an unknown host refused", "host", r.Host, "remote", r.RemoteAddr,
				"hint", "add the name to admin_hosts if the listener is reached under it")
			refuse(w, http.StatusMisdirectedRequest, "unknown Host "+r.Host+": this listener answers to localhost, IP addresses and the names in admin_hosts")
			return
		}
		if stateChange(r.Method) && crossSite(r) {
			s.cfg.Logger.Warn("admin: cross-site state change refused", "method", r.Method, "path", r.URL.Path,
				"origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
			refuse(w, http.StatusForbidden, "cross-site request refused: change the proxy from its own page, curl or deferproxy")
			return
		}
		if s.cfg.Token != "" && !s.authorized(r) {
			if r.URL.Path == "/login" && r.Method == http.MethodPost {
				next.ServeHTTP(w, r)
				return
			}
			if r.URL.Path == "/" && r.Method == http.MethodGet {
				s.loginPage(w, http.StatusUnauthorized, "")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="deferproxy admin"`)
			refuse(w, http.StatusUnauthorized, "this listener needs its admin token: send Authorization: Bearer <admin_token> (deferproxy status reads admin_token or DEFERPROXY_ADMIN_TOKEN)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(msg + "\n"))
}

func stateChange(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// crossSite says whether a browser sent r on behalf of another site. Sec-Fetch-Site is the browser's own word;
// Origin is compared with the Host the request was sent to (a page of this listener sends its own origin).
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none": // none: typed by the user, a bookmark
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
}

// knownHost accepts IP literals, localhost and the listener's own and configured names.
func (s *Server) knownHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	names := append([]string{s.cfg.Addr}, s.cfg.Hosts...)
	for _, n := range names {
		if h, _, err := net.SplitHostPort(n); err == nil {
			n = h
		}
		if strings.EqualFold(strings.TrimSuffix(n, "."), host) {
			return true
		}
	}
	return false
}

// authorized checks the bearer token or the page's cookie, in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && equal(strings.TrimSpace(tok), s.cfg.Token)
	}
	if c, err := r.Cookie(cookieName); err == nil {
		return equal(c.Value, s.cookieValue())
	}
	return false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// cookieValue is what the page's cookie holds: an HMAC of a fixed text under the token, so that the cookie is not
// the token (it cannot be replayed as a bearer) and changes when the token does.
func (s *Server) cookieValue() string {
	m := hmac.New(sha256.New, []byte(s.cfg.Token))
	m.Write([]byte("deferproxy admin page"))
	return hex.EncodeToString(m.Sum(nil))
}

// login takes the token from the page's form and, when it is right, sets the cookie and goes back to the page.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token == "" {
		refuse(w, http.StatusNotFound, "this listener has no admin token")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !equal(r.PostFormValue("token"), s.cfg.Token) {
		s.cfg.Logger.Warn("admin: wrong admin token entered on the page", "remote", r.RemoteAddr)
		s.loginPage(w, http.StatusUnauthorized, "That is not the admin token.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.cookieValue(), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	w.Header().Set("Location", "./")
	w.WriteHeader(http.StatusSeeOther)
}
