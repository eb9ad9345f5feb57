package deferral

import (
	"strings"
	"sync"
	"time"
)

// selection remembers which nodes the running dbt invocations build (SPEC §4.3). It is engine-wide because dbt runs one
// invocation over several connections (threads), each a proxy session.
type selection struct {
	mu          sync.Mutex
	invocations map[string]*invocation // invocation_id → nodes seen in it
	built       map[builtKey]time.Time // dev relation created/replaced through the proxy → when
	window      time.Duration          // selected_window
	now         func() time.Time
}

type invocation struct {
	nodes    map[string]struct{}
	lastSeen time.Time
}

// builtKey names a node built in one dev target (the same node id may be built by two developers).
type builtKey struct {
	devSchema string // "db.schema" of the session's dev target
	nodeID    string
}

// maxInvocations bounds memory: invocations idle longest are dropped first.
const (
	maxInvocations = 256
	invocationIdle = 24 * time.Hour
)

func newSelection(window time.Duration) *selection {
	return &selection{
		invocations: map[string]*invocation{},
		built:       map[builtKey]time.Time{},
		window:      window,
		now:         time.Now,
	}
}

// see records that the statement of node nodeID ran in invocation inv (either may be empty).
func (s *selection) see(inv, nodeID string) {
	if inv == "" || nodeID == "" {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	iv := s.invocations[inv]
	if iv == nil {
		inv = strings.Clone(inv) // the comment may share memory with the proxy's read buffer
		if len(s.invocations) >= maxInvocations {
			s.evictLocked(now)
		}
		iv = &invocation{nodes: map[string]struct{}{}}
		s.invocations[inv] = iv
	}
	if _, ok := iv.nodes[nodeID]; !ok {
		iv.nodes[strings.Clone(nodeID)] = struct{}{}
	}
	iv.lastSeen = now
}

func (s *selection) evictLocked(now time.Time) {
	var oldestID string
	var oldest time.Time
	for id, iv := range s.invocations {
		if now.Sub(iv.lastSeen) > invocationIdle {
			delete(s.invocations, id)
			continue
		}
		if oldestID == "" || iv.lastSeen.Before(oldest) {
			oldestID, oldest = id, iv.lastSeen
		}
	}
	if len(s.invocations) >= maxInvocations && oldestID != "" {
		delete(s.invocations, oldestID)
	}
}

// markBuilt records that nodeID's dev relation in devSchema was created or replaced through the proxy.
func (s *selection) markBuilt(devSchema, nodeID string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Drop expired entries now and then so the map stays bounded by what was built within the window.
	if len(s.built) > 4096 {
		for k, t := range s.built {
			if now.Sub(t) > s.window {
				delete(s.built, k)
			}
		}
	}
	s.built[builtKey{devSchema, nodeID}] = now
}

// selected reports whether nodeID counts as selected for a statement carrying (inv, executing node):
// the executing node itself; with an invocation id, every node seen in that invocation; otherwise a node built
// through the proxy within the window.
func (s *selection) selected(inv, executing, devSchema, nodeID string) bool {
	if nodeID == executing && nodeID != "" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv != "" {
		if iv := s.invocations[inv]; iv != nil {
			_, ok := iv.nodes[nodeID]
			return ok
		}
		return false
	}
	t, ok := s.built[builtKey{devSchema, nodeID}]
	return ok && s.now().Sub(t) <= s.window
}
