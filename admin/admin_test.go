package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeEngine stands in for the defer engine: admin must not import deferral (arrows), and what is tested here is
// only how admin renders any StatusSource. The real engine is exercised through the demo test in cmd/deferproxy.
type fakeEngine struct {
	deferrals prometheus.Counter
}

func (f *fakeEngine) Status() any {
	return map[string]any{
		"manifest": map[string]any{"project": "jaffle_shop", "generated_at": "2026-11-25T21:32:06Z"},
		"latest_deferrals": []any{
			map[string]any{"from": "dbt_demo.orders", "to": "analytics.orders"},
		},
		"note": "<script>alert(1)</script>",
	}
}
func (f *fakeEngine) LatestDeferrals() []Deferral {
	return []Deferral{{At: time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC), Session: 3, NodeID: "model.jaffle_shop.orders",
		From: "dbt_demo.orders", To: "analytics.orders"}}
}
func (f *fakeEngine) Describe(ch chan<- *prometheus.Desc) { f.deferrals.Describe(ch) }
func (f *fakeEngine) Collect(ch chan<- prometheus.Metric) { f.deferrals.Collect(ch) }

func newTestServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestHandlers(t *testing.T) {
	eng := &fakeEngine{deferrals: prometheus.NewCounter(prometheus.CounterOpts{Name: "deferproxy_deferrals_total", Help: "test"})}
	eng.deferrals.Add(3)
	var ready error
	ts := newTestServer(t, Config{
		Version:  "v1.2.3",
		Listen:   "127.0.0.1:6432",
		Upstream: "postgres://127.0.0.1:5432/jaffle",
		Sessions: func() SessionStats { return SessionStats{Active: 2, Total: 7, Rejected: 1, Cancels: 4} },
		Ready:    func(context.Context) error { return ready },
		Engine:   eng,
	})

	tests := []struct {
		name, path string
		ready      error
		wantCode   int
		wantBody   []string
		notBody    []string
		wantType   string
	}{
		{name: "healthz", path: "/healthz", wantCode: 200, wantBody: []string{"ok"}},
		{name: "healthz even when not ready", path: "/healthz", ready: errors.New("upstream down"), wantCode: 200},
		{name: "readyz ready", path: "/readyz", wantCode: 200, wantBody: []string{"ready"}},
		{name: "readyz not ready", path: "/readyz", ready: errors.New("upstream 127.0.0.1:5432 unreachable"), wantCode: 503,
			wantBody: []string{"not ready: upstream 127.0.0.1:5432 unreachable"}},
		{name: "status", path: "/status", wantCode: 200, wantType: "application/json",
			wantBody: []string{`"version": "v1.2.3"`, `"active": 2`, `"total": 7`, `"ready": true`, `"project": "jaffle_shop"`}},
		{name: "metrics", path: "/metrics", wantCode: 200, wantBody: []string{
			"deferproxy_sessions_active 2", "deferproxy_sessions_total 7", "deferproxy_sessions_rejected_total 1", "deferproxy_cancel_requests_total 4", `deferproxy_build_info{version="v1.2.3"} 1`,
			"deferproxy_engine_enabled 1", "deferproxy_deferrals_total 3", "go_goroutines"}},
		{name: "page", path: "/", wantCode: 200, wantType: "text/html; charset=utf-8", wantBody: []string{
			"deferproxy <code>v1.2.3</code>", "2 active, 7 sessions since start", "dbt_demo.orders", "analytics.orders",
			"latest_deferrals", "&lt;script&gt;", ">Latest deferrals</h2>",
			"<td><code>dbt_demo.orders</code></td><td><code>analytics.orders</code></td><td><code>model.jaffle_shop.orders</code></td><td>3</td><td>21:00:00</td>"},
			notBody: []string{"<script>alert"}},
		{name: "unknown path", path: "/nope", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready = tt.ready
			code, body, h := get(t, ts.URL+tt.path)
			if code != tt.wantCode {
				t.Fatalf("GET %s: code %d, want %d; body:\n%s", tt.path, code, tt.wantCode, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: body lacks %q:\n%s", tt.path, w, body)
				}
			}
			for _, w := range tt.notBody {
				if strings.Contains(body, w) {
					t.Errorf("GET %s: body contains %q", tt.path, w)
				}
			}
			if tt.wantType != "" && h.Get("Content-Type") != tt.wantType {
				t.Errorf("GET %s: Content-Type %q, want %q", tt.path, h.Get("Content-Type"), tt.wantType)
			}
		})
	}
}

func TestStatusWithoutEngine(t *testing.T) {
	ts := newTestServer(t, Config{Version: "dev", EngineNote: "pass-through: no manifest configured"})
	code, body, _ := get(t, ts.URL+"/status")
	if code != 200 {
		t.Fatalf("code %d", code)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("decode /status: %v\n%s", err, body)
	}
	if st.Engine != nil || st.EngineNote != "pass-through: no manifest configured" || !st.Ready || st.Sessions.Total != 0 {
		t.Fatalf("unexpected status %+v", st)
	}
	_, metrics, _ := get(t, ts.URL+"/metrics")
	if !strings.Contains(metrics, "deferproxy_engine_enabled 0") {
		t.Errorf("metrics lack deferproxy_engine_enabled 0:\n%s", metrics)
	}
	_, page, _ := get(t, ts.URL+"/")
	if !strings.Contains(page, "pass-through: no manifest configured") || strings.Contains(page, "Latest deferrals") {
		t.Errorf("page lacks the engine note or lists deferrals without an engine:\n%s", page)
	}
}

// TestLifecycle runs the real listener: Serve, a request, Shutdown, and Serve returning nil.
func TestLifecycle(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln) }()
	code, _, _ := get(t, "http://"+ln.Addr().String()+"/healthz")
	if code != 200 {
		t.Fatalf("healthz code %d", code)
	}
	if s.Addr() == nil || s.Addr().String() != ln.Addr().String() {
		t.Fatalf("Addr() = %v, want %v", s.Addr(), ln.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("listener still answers after Shutdown")
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New with empty Addr: no error")
	}
	s, err := New(Config{Addr: "256.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ListenAndServe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--admin") {
		t.Fatalf("ListenAndServe on a bad address: %v, want an error naming --admin", err)
	}
}

func TestSetMode(t *testing.T) {
	var got string
	ts := newTestServer(t, Config{SetDefaultMode: func(m string) error {
		if m != "defer" && m != "favor_state" && m != "off" {
			return errors.New("invalid mode " + m)
		}
		got = m
		return nil
	}})
	post := func(body string) (int, string) {
		resp, err := http.Post(ts.URL+"/mode", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(`{"mode":"favor_state"}`); code != 200 || got != "favor_state" {
		t.Fatalf("POST mode=favor_state: %d %q, engine got %q", code, body, got)
	}
	if code, body := post(`{"mode":"yolo"}`); code != 400 || !strings.Contains(body, "invalid mode yolo") || got != "favor_state" {
		t.Fatalf("POST mode=yolo: %d %q, engine got %q", code, body, got)
	}
	if code, _ := post(`{}`); code != 400 {
		t.Fatalf("POST without mode: %d", code)
	}
	// A form (what a page of another site can send without asking) is refused, whatever its origin.
	resp, err := http.Post(ts.URL+"/mode", "application/x-www-form-urlencoded", strings.NewReader("mode=off"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || got != "favor_state" {
		t.Fatalf("POST /mode as a form: %d, engine got %q", resp.StatusCode, got)
	}
	if code, _ := post(""); code != 400 {
		t.Fatalf("POST without mode: %d", code)
	}
	if code, _, _ := get(t, ts.URL+"/mode"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /mode: %d, want 405", code)
	}
	noEngine := newTestServer(t, Config{})
	resp, err = http.Post(noEngine.URL+"/mode", "application/json", strings.NewReader(`{"mode":"off"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("POST /mode without engine: %d, want 404", resp.StatusCode)
	}
}
