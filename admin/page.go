package admin

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
)

//go:embed templates/page.html
var templateFS embed.FS

// pageTemplate is parsed once at init: a broken template is a programming error caught by every test run.
var pageTemplate = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"kind":   kindOf,
	"keys":   sortedKeys,
	"plural": func(n uint64) string { return map[bool]string{true: "", false: "s"}[n == 1] },
}).ParseFS(templateFS, "templates/page.html"))

// page renders the same Status as /status for people who would rather look than read. The engine part is shown
// generically (nested tables), so the page follows whatever the engine reports, including its latest deferrals.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	st := s.Snapshot(r.Context())
	// Round-trip the engine's status through JSON so the template sees the same field names as /status.
	var engine any
	if st.Engine != nil {
		if b, err := json.Marshal(st.Engine); err == nil {
			_ = json.Unmarshal(b, &engine)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var latest []Deferral
	if l, ok := s.cfg.Engine.(DeferralLister); ok {
		latest = l.LatestDeferrals()
	}
	if err := pageTemplate.Execute(w, struct {
		Status
		EngineView any
		Latest     []Deferral
		HasLister  bool
	}{st, engine, latest, isLister(s.cfg.Engine)}); err != nil {
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
