package admin

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/deferproxy/deferproxy/internal/age"
)

//go:embed templates/page.html templates/login.html
var templateFS embed.FS

// loginTemplate is the form that asks for the admin token once (admin_token set).
var loginTemplate = template.Must(template.ParseFS(templateFS, "templates/login.html"))

// pageCSP is the page's Content-Security-Policy: nothing comes from elsewhere, the one script is the page's own
// (its nonce changes with every response), it may only call this listener, and no other site may frame the page.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-%s'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// loginPage answers with the token form, with msg (a wrong token) when set.
func (s *Server) loginPage(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(code)
	if err := loginTemplate.Execute(w, msg); err != nil {
		s.cfg.Logger.Warn("admin: render login page", "err", err)
	}
}

// nonce is a fresh value for the page's script-src.
func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) // no "+" or "=", which html/template would escape in the attribute
}

// pageTemplate is parsed once at init: a broken template is a programming error caught by every test run.
var pageTemplate = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"kind":   kindOf,
	"keys":   sortedKeys,
	"plural": func(n uint64) string { return map[bool]string{true: "", false: "s"}[n == 1] },
	"age":    func(t time.Time) string { return age.Human(time.Since(t)) },
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return age.Human(time.Since(t)) + " ago"
	},
	"modes": func() []string { return []string{"defer", "favor_state", "off"} },
}).ParseFS(templateFS, "templates/page.html"))

// engineView is what the page shows of the engine's status, read from the same JSON as /status (the engine's
// documented field names), so that admin needs no import of the engine.
type engineView struct {
	Production *struct {
		Label        string    `json:"label"`
		RunID        string    `json:"run_id"`
		URL          string    `json:"url"`
		FinishedAt   time.Time `json:"finished_at"`
		GeneratedAt  time.Time `json:"generated_at"`
		Stale        bool      `json:"stale"`
		ProjectName  string    `json:"project_name"`
		Nodes        int       `json:"nodes"`
		DBTVersion   string    `json:"dbt_version"`
		InvocationID string    `json:"invocation_id"`
	} `json:"production"`
	ProductionSource *struct {
		Source     string    `json:"source"`
		Kind       string    `json:"kind"`
		LastCheck  time.Time `json:"last_check"`
		LastChange time.Time `json:"last_change"`
		LastError  string    `json:"last_error"`
		FromCache  bool      `json:"from_cache"`
		Poll       string    `json:"poll"`
	} `json:"production_source"`
	Warnings []struct {
		Kind  string   `json:"kind"`
		Count int      `json:"count"`
		Text  string   `json:"text"`
		Nodes []string `json:"nodes"`
	} `json:"warnings"`
	DefaultMode string `json:"default_mode"`
	Statements  uint64 `json:"statements"`
	Rewritten   uint64 `json:"rewritten"`
	Deferrals   uint64 `json:"deferrals"`
	Refused     uint64 `json:"refused"`
	FailedOpen  uint64 `json:"failed_open"`
	Sessions    []struct {
		ID          uint64 `json:"id"`
		User        string `json:"user"`
		Application string `json:"application_name"`
		Mode        string `json:"mode"`
		CatalogView bool   `json:"catalog_view"`
		DevSchema   string `json:"dev_schema"`
		Deferrals   uint64 `json:"deferrals"`
	} `json:"sessions"`
}

// page renders the same Status as /status for people who would rather look than read: the production run as a card
// with its link, the source's health, the sessions with the mode switch, the latest deferrals; everything else the
// engine reports follows generically. It is self-contained: one script of its own (the mode switch, which POSTs JSON),
// no asset from elsewhere.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	st := s.Snapshot(r.Context())
	// Round-trip the engine's status through JSON so the template sees the same field names as /status.
	var engine any
	var view *engineView
	if st.Engine != nil {
		if b, err := json.Marshal(st.Engine); err == nil {
			_ = json.Unmarshal(b, &engine)
			var v engineView
			if json.Unmarshal(b, &v) == nil && v.DefaultMode != "" {
				view = &v
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Nothing on the page comes from elsewhere; say so to the browser too.
	n := nonce()
	w.Header().Set("Content-Security-Policy", fmt.Sprintf(pageCSP, n))
	var latest []Deferral
	if l, ok := s.cfg.Engine.(DeferralLister); ok {
		latest = l.LatestDeferrals()
	}
	if err := pageTemplate.Execute(w, struct {
		Status
		EngineView any
		View       *engineView
		Latest     []Deferral
		HasLister  bool
		Nonce      string
	}{st, engine, view, latest, isLister(s.cfg.Engine), n}); err != nil {
		s.cfg.Logger.Warn("admin: render page", "err", err)
	}
}

// kindOf classifies a JSON-decoded value for the recursive template.
func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "map"
	case []any:
		return "list"
	case nil:
		return "nil"
	default:
		return "scalar"
	}
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func isLister(e StatusSource) bool {
	_, ok := e.(DeferralLister)
	return ok
}
