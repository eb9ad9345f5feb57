package deferral

import (
	"slices"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
)

var _ engine.Checker = (*session)(nil)

// Current implements engine.Checker: a front end asks it before each use of a prepared statement whether the verdict
// it was prepared with still stands. The same conditions as the memo's (memo.go): the manifests and dev target
// (targetState id), the mode when the verdict depended on it, the search_path, and each dev catalog listing an
// existence answer came from. Id and string comparisons only: no allocation, no catalog round trip (a listing that
// expired answers false, and the front end's new decision lists the schema again).
func (s *session) Current(d engine.Dependencies) bool {
	if d.Volatile {
		return false
	}
	e := s.e
	prod := e.prod.Current()
	if prod == nil || d.Manifests == 0 {
		return prod == nil && d.Manifests == 0
	}
	if s.targetFor(prod).id != d.Manifests {
		return false
	}
	s.mu.Lock()
	ok := (d.Mode == "" || d.Mode == s.currentMode().String()) && slices.Equal(d.SearchPath, s.scope.SearchPath) &&
		(d.CatalogView == "" || d.CatalogView == onOff(s.viewOnLocked()))
	s.mu.Unlock()
	if !ok {
		return false
	}
	for _, l := range d.Listings {
		if l.ID == 0 || e.devcat == nil || e.devcat.ListingID(catalog.SchemaName{Database: l.Database, Schema: l.Schema}) != l.ID {
			return false
		}
	}
	return true
}
