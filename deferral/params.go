package deferral

import (
	"strings"

	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// Parameter implements engine.Session: what the server reports of its settings. search_path is taken only before
// the session's first statement (the proxy's question at connect): later reports may describe a point the client
// has already moved past, and the session's own tracking is ahead of them.
func (s *session) Parameter(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch strings.ToLower(name) {
	case "search_path":
		if s.started.Load() {
			return
		}
		if value == engine.ParameterUnknown {
			s.startPath = pathState{raw: s.startPath.raw, unknown: true}
		} else {
			s.startPath = pathState{raw: rewrite.SplitList(value)}
		}
		s.path = s.startPath
		s.pathChangedLocked()
	case "standard_conforming_strings":
		s.scsOff.Store(!strings.EqualFold(value, "on"))
	case "client_encoding":
		s.encoding.Store(&value)
	case "application_name":
		// pgjdbc connects with an empty application_name and sends SET application_name next: the session is
		// dbt's, and catalog_view_apps applies, by the name the server now has.
		s.appChangedLocked(value)
	}
}

// isDbtApp says whether an application_name is dbt's (dbt-postgres's default is "dbt").
func isDbtApp(app string) bool { return len(app) >= 3 && strings.EqualFold(app[:3], "dbt") }

// appChangedLocked follows a new application_name (mu held): whether the session is dbt's, and, when the catalog
// view's connect-time value came from catalog_view_apps, that value — and the view itself unless the session set it.
func (s *session) appChangedLocked(app string) {
	s.dbt, s.app = isDbtApp(app), app
	if !s.viewFromApp {
		return
	}
	v := s.e.viewApp(app)
	if s.view.tx == nil && s.view.val == s.view.start {
		s.view.val = v
	}
	s.view.start = v
}
