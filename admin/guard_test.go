package admin

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestGuard (issue 10, row 12): unknown Host names, cross-site state changes and requests without the admin token
// are refused; probes answer under any Host and without a token; the page's cookie works, and is not the token.
func TestGuard(t *testing.T) {
	mode := "defer"
	ts := newTestServer(t, Config{Version: "v1", Engine: &runEngine{mode: "defer"}, Hosts: []string{"proxy.internal"},
		Token: "s3cret-admin-token", SetDefaultMode: func(m string) error { mode = m; return nil }})
	port := ts.URL[strings.LastIndex(ts.URL, ":")+1:]
	do := func(method, path, host string, hdr map[string]string, body string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	bearer := map[string]string{"Authorization": "Bearer s3cret-admin-token"}
	jsonMode := func(extra map[string]string) map[string]string {
		h := map[string]string{"Authorization": "Bearer s3cret-admin-token", "Content-Type": "application/json"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	for _, tt := range []struct {
		name, method, path, host string
		hdr                      map[string]string
		body                     string
		want                     int
	}{
		{"probe under a rebound name", "GET", "/healthz", "evil.example:" + port, nil, "", 200},
		{"readiness without token", "GET", "/readyz", "evil.example", nil, "", 200},
		{"status under a rebound name", "GET", "/status", "evil.example:" + port, bearer, "", 421},
		{"page under a rebound name", "GET", "/", "evil.example:" + port, bearer, "", 421},
		{"mode under a rebound name", "POST", "/mode", "evil.example:" + port, jsonMode(nil), `{"mode":"off"}`, 421},
		{"localhost", "GET", "/status", "localhost:" + port, bearer, "", 200},
		{"IPv6 loopback", "GET", "/status", "[::1]:" + port, bearer, "", 200},
		{"admin_hosts name", "GET", "/status", "Proxy.Internal:" + port, bearer, "", 200},
		{"status without token", "GET", "/status", "", nil, "", 401},
		{"metrics without token", "GET", "/metrics", "", nil, "", 401},
		{"exec without token", "GET", "/exec/ab", "", nil, "", 401},
		{"wrong token", "GET", "/status", "", map[string]string{"Authorization": "Bearer s3cret-admin-tokeN"}, "", 401},
		{"basic auth is not a bearer", "GET", "/status", "", map[string]string{"Authorization": "Basic s3cret-admin-token"}, "", 401},
		{"metrics with token", "GET", "/metrics", "", bearer, "", 200},
		{"page without token: the form", "GET", "/", "", nil, "", 401},
		{"mode from another origin", "POST", "/mode", "", jsonMode(map[string]string{"Origin": "http://evil.example"}), `{"mode":"off"}`, 403},
		{"mode from an opaque origin", "POST", "/mode", "", jsonMode(map[string]string{"Origin": "null"}), `{"mode":"off"}`, 403},
		{"mode cross-site by fetch metadata", "POST", "/mode", "", jsonMode(map[string]string{"Sec-Fetch-Site": "cross-site"}), `{"mode":"off"}`, 403},
		{"mode same-site is not same-origin", "POST", "/mode", "", jsonMode(map[string]string{"Sec-Fetch-Site": "same-site"}), `{"mode":"off"}`, 403},
		{"manifest upload from another origin", "PUT", "/exec/ab/manifest", "", map[string]string{"Origin": "http://evil.example", "Authorization": "Bearer s3cret-admin-token"}, "{}", 403},
		{"mode as a form", "POST", "/mode", "", map[string]string{"Authorization": "Bearer s3cret-admin-token", "Content-Type": "application/x-www-form-urlencoded"}, "mode=off", 415},
		{"mode as text/plain", "POST", "/mode", "", map[string]string{"Authorization": "Bearer s3cret-admin-token", "Content-Type": "text/plain"}, `{"mode":"off"}`, 415},
		{"mode without token", "POST", "/mode", "", map[string]string{"Content-Type": "application/json"}, `{"mode":"off"}`, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body, h := do(tt.method, tt.path, tt.host, tt.hdr, tt.body)
			if code != tt.want {
				t.Fatalf("%s %s (Host %q): %d, want %d\n%s", tt.method, tt.path, tt.host, code, tt.want, body)
			}
			if code == 401 && tt.path != "/" && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if strings.Contains(body, "s3cret-admin-token") {
				t.Errorf("the answer shows the token:\n%s", body)
			}
		})
	}
	if mode != "defer" {
		t.Fatalf("a refused request changed the mode to %s", mode)
	}
	// Same origin with the token: accepted.
	if code, body, _ := do("POST", "/mode", "", jsonMode(map[string]string{"Origin": ts.URL, "Sec-Fetch-Site": "same-origin"}), `{"mode":"off"}`); code != 200 || mode != "off" {
		t.Fatalf("same-origin POST /mode: %d %s, mode %s", code, body, mode)
	}

	// The page: a wrong token gets the form again; the right one sets an HttpOnly, SameSite=Strict cookie that is
	// not the token, and the page then opens with it (and /status too: it is the same listener).
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": ts.URL}
	if code, body, h := do("POST", "/login", "", form, url.Values{"token": {"wrong"}}.Encode()); code != 401 ||
		!strings.Contains(body, "not the admin token") || h.Get("Set-Cookie") != "" {
		t.Fatalf("login with a wrong token: %d %q", code, h.Get("Set-Cookie"))
	}
	if code, _, _ := do("POST", "/login", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"},
		url.Values{"token": {"s3cret-admin-token"}}.Encode()); code != 403 {
		t.Fatalf("login from another origin: %d", code)
	}
	code, _, h := do("POST", "/login", "", form, url.Values{"token": {"s3cret-admin-token"}}.Encode())
	cookie := h.Get("Set-Cookie")
	if code != http.StatusSeeOther || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") ||
		strings.Contains(cookie, "s3cret-admin-token") {
		t.Fatalf("login: %d, Set-Cookie %q", code, cookie)
	}
	kv := strings.SplitN(cookie, ";", 2)[0]
	if code, page, _ := do("GET", "/", "", map[string]string{"Cookie": kv}, ""); code != 200 || !strings.Contains(page, `id="mode-form"`) {
		t.Fatalf("page with the cookie: %d", code)
	}
	if code, _, _ := do("GET", "/status", "", map[string]string{"Cookie": cookieName + "=s3cret-admin-token"}, ""); code != 401 {
		t.Fatalf("the token as a cookie value: %d, want 401", code)
	}
}

// TestGuardWithoutToken: with no admin_token, the Host and Origin checks still hold and everything else is open.
func TestGuardWithoutToken(t *testing.T) {
	ts := newTestServer(t, Config{Version: "v1", SetDefaultMode: func(string) error { return nil }})
	req, _ := http.NewRequest("POST", ts.URL+"/mode", strings.NewReader(`{"mode":"off"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("cross-origin POST /mode without a token configured: %d, want 403", resp.StatusCode)
	}
	if code, _, _ := get(t, ts.URL+"/status"); code != 200 {
		t.Fatalf("/status without a token configured: %d", code)
	}
	resp, err = http.PostForm(ts.URL+"/login", url.Values{"token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/login without a token configured: %d", resp.StatusCode)
	}
}
