package deferral

import (
	"sync"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
)

// Status is the engine's state for `deferproxy status`, the admin /status JSON and the status page (SPEC §7).
type Status struct {
	// Production is the production run in use; nil when no manifest has loaded yet.
	Production *RunStatus `json:"production"`
	// ProductionError is the last manifest load error (the last good manifest stays in use).
	ProductionError string `json:"production_error,omitempty"`
	// ProductionSource is the production manifest source's health: last check, last change, last error.
	ProductionSource *catalog.SourceStatus `json:"production_source,omitempty"`
	// Mapping says how dev relations are mapped to nodes (SPEC §3) and why.
	Mapping string `json:"mapping"`
	// Warnings are what the developer should know with counts (SPEC §7): the mapping's blind spots (snapshots with a
	// target_schema it cannot evaluate, an unrecognised generate_schema_name, nodes no dev relation maps to) and dbt
	// invocations whose get_relation sees deferred relations as missing.
	Warnings []Warning `json:"warnings"`
	// GetRelation are the latest invocations that listed a dev schema lacking relations deferproxy deferred.
	GetRelation []ListingWarning `json:"get_relation,omitempty"`
	// DevCatalogNotify says, per database the dev catalog has listed ("" = catalog_dsn's), whether DDL notifications
	// (deferproxy setup-notify) keep its listings current; false: they expire after catalog_ttl.
	DevCatalogNotify map[string]bool `json:"dev_catalog_notify,omitempty"`
	// DefaultMode is the mode new sessions start in.
	DefaultMode string `json:"default_mode"`
	// Counters since start.
	Statements      uint64 `json:"statements"`       // statements seen by the hook
	Rewritten       uint64 `json:"rewritten"`        // statements forwarded with at least one deferral
	Deferrals       uint64 `json:"deferrals"`        // relation references deferred
	Refused         uint64 `json:"refused"`          // statements refused (write guard, invalid SET)
	FailedOpen      uint64 `json:"failed_open"`      // statements forwarded unchanged because of a parse or catalog error
	IntrospectionRW uint64 `json:"introspection_rw"` // catalog queries whose literals were rewritten (SPEC §5.5)
	MemoHits        uint64 `json:"memo_hits"`        // statements answered from a session's memo of repeated statements
	// Analysis cache (statements past the prefilter that were not memo hits): exact-text hits, literal-shape hits
	// (same text but for literal values), and parses.
	AnalysisHits      uint64 `json:"analysis_hits"`
	AnalysisShapeHits uint64 `json:"analysis_shape_hits"`
	Parses            uint64 `json:"parses"`
	// Sessions are the open sessions.
	Sessions []SessionStatus `json:"sessions"`
	// Recent are the latest deferrals, newest first.
	Recent []RecentDeferral `json:"recent"`
}

// RunStatus describes the loaded production manifest (the "production run").
type RunStatus struct {
	Source string `json:"source"`
	Label  string `json:"label"`
	// RunID, Job, FinishedAt and URL identify the run (docs/SPEC.md §7): the scheduler's, or the invocation id and
	// the manifest_run_url template for file, HTTP and S3 sources.
	RunID         string    `json:"run_id"`
	Job           string    `json:"job,omitempty"`
	FinishedAt    time.Time `json:"finished_at"`
	URL           string    `json:"url,omitempty"`
	DBTVersion    string    `json:"dbt_version"`
	InvocationID  string    `json:"invocation_id"`
	GeneratedAt   time.Time `json:"generated_at"`
	AgeSeconds    float64   `json:"age_seconds"`
	Stale         bool      `json:"stale"`
	LoadedAt      time.Time `json:"loaded_at"`
	Nodes         int       `json:"nodes"`
	ProjectName   string    `json:"project_name,omitempty"`
	SchemaVersion string    `json:"schema_version,omitempty"`
}

// SessionStatus is one open session.
type SessionStatus struct {
	ID          uint64    `json:"id"`
	User        string    `json:"user"`
	Database    string    `json:"database"`
	Application string    `json:"application_name,omitempty"`
	Mode        string    `json:"mode"`
	CatalogView bool      `json:"catalog_view,omitempty"` // SPEC §5.6
	DevSchema   string    `json:"dev_schema"`
	Since       time.Time `json:"since"`
	Deferrals   uint64    `json:"deferrals"`
}

// RecentDeferral is one deferred reference, for the status page.
type RecentDeferral struct {
	At      time.Time `json:"at"`
	Session uint64    `json:"session"`
	NodeID  string    `json:"node_id,omitempty"`
	From    string    `json:"from"`
	To      string    `json:"to"`
}

// recentRing keeps the last N deferrals.
type recentRing struct {
	mu   sync.Mutex
	buf  []RecentDeferral
	next int
	full bool
}

func newRecentRing(n int) *recentRing { return &recentRing{buf: make([]RecentDeferral, n)} }

func (r *recentRing) add(d RecentDeferral) {
	r.mu.Lock()
	r.buf[r.next] = d
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// list returns the entries newest first.
func (r *recentRing) list() []RecentDeferral {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.buf)
	}
	out := make([]RecentDeferral, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}

// Warning is one status warning: what, how many, a sentence saying what to do, a few of the nodes concerned.
type Warning struct {
	Kind  string   `json:"kind"`
	Count int      `json:"count"`
	Text  string   `json:"text"`
	Nodes []string `json:"nodes,omitempty"`
}
