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
	}
}
