package deferral

import (
	"strings"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
)

// The memo is the defer engine's answer to a statement sent again. A BI dashboard refreshing its tiles, pgbench and
// every extended-protocol client that re-sends Parse for each execution repeat the same text; the memo keeps, per
// session, the finished outcome of such a statement (rewritten text, deferral count, the client report) together
// with everything the outcome was drawn from, and replays it while all of that is unchanged:
//
//   - the production and dev manifests and the dev target (one targetState per pair of loaded manifests; the memo
//     keeps its id, not the state, so an idle session does not keep replaced manifests alive),
//   - the session's mode and search_path (pathVersion),
//   - each dev catalog listing an existence answer came from (catalog.DevCatalog.ListingID: a listing that expired
//     after its TTL or was invalidated by DDL has no id any more, so the memo never outlives what the dev catalog
//     itself would answer).
//
// Only plain reads are memoized: a statement with a write target or DDL has side effects on the session (the
// transaction overlay, built-node tracking, the write guard's refusal), and neither are favor-state decisions that
// consulted the node selection (it depends on the time window of recent builds) nor statements of a session with
// uncommitted DDL or temp tables of its own. The memo is touched only by the session's client-reading goroutine.
type memo struct {
	entries map[string]*memoEntry
	bytes   int
}

// memoEntry is one remembered outcome.
type memoEntry struct {
	mode        catalog.Mode
	view        bool // deferproxy.catalog_view
	pathVersion int
	deps        engine.Dependencies // deps.Manifests is the targetState.id, deps.Listings the listings consulted
	sql         string              // the statement to forward
	changed     bool                // sql differs from the key
	report      *report
}

// Bounds: a session remembers its most recent repeated statements, not whole dbt runs (model SQL is rarely sent
// twice and can be large).
const (
	memoMaxEntries  = 64
	memoMaxBytes    = 256 << 10
	memoMaxStmtSize = 8 << 10
)

// lookup returns the entry for sql when everything it was drawn from is still current.
func (m *memo) lookup(cat *catalog.DevCatalog, sql string, ts *targetState, mode catalog.Mode, view bool, pathVersion int) *memoEntry {
	if cat == nil || len(m.entries) == 0 {
		return nil
	}
	en := m.entries[sql]
	if en == nil {
		return nil
	}
	if en.deps.Manifests != ts.id || en.mode != mode || en.view != view || en.pathVersion != pathVersion {
		return nil
	}
	for _, d := range en.deps.Listings {
		if cat.ListingID(catalog.SchemaName{Database: d.Database, Schema: d.Schema}) != d.ID {
			return nil
		}
	}
	return en
}

// store remembers en for sql, forgetting everything else when the session's share is used up.
func (m *memo) store(sql string, en *memoEntry) {
	// The key and the rewritten text (a catalog view's can be many times the key, SPEC §5.6).
	size := len(sql) + len(en.sql) + 256
	if len(sql) > memoMaxStmtSize || size > memoMaxBytes {
		return
	}
	if old := m.entries[sql]; old != nil {
		m.bytes -= len(sql) + len(old.sql) + 256
	}
	if m.entries == nil || len(m.entries) >= memoMaxEntries || m.bytes+size > memoMaxBytes {
		m.entries, m.bytes = make(map[string]*memoEntry, 8), 0
	}
	m.entries[strings.Clone(sql)] = en
	m.bytes += size
}
