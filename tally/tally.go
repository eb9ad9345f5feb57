// Package tally records what the sessions of each tagged command did — the relations deferred, the statements
// refused — so that `deferproxy exec` can tell its user after the command ends (docs/SPEC.md §7). It wraps an
// engine.Engine and reads only the verdicts: the engine knows nothing of tags, and untagged sessions pass through.
package tally

import (
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deferproxy/deferproxy/engine"
)

// maxTags bounds the records kept: the oldest is forgotten first (a command's summary is read when it ends).
const maxTags = 256

// Tally is an engine.Engine that records the verdicts of tagged sessions.
type Tally struct {
	inner engine.Engine
	tagOf func(engine.SessionInfo) string

	mu    sync.Mutex
	byTag map[string]*record
}

// New wraps inner; tagOf says a session's tag ("" for none).
func New(inner engine.Engine, tagOf func(engine.SessionInfo) string) *Tally {
	return &Tally{inner: inner, tagOf: tagOf, byTag: map[string]*record{}}
}

// Report is what one tag's sessions did.
type Report struct {
	Tag        string     `json:"tag"`
	Sessions   int        `json:"sessions"`
	Statements uint64     `json:"statements"`
	Deferrals  []Deferral `json:"deferrals"` // distinct from → to, in first-seen order
	Refusals   []Refusal  `json:"refusals"`
	// Warnings are the distinct WARNINGs the engine told the sessions (dbt prints none of them), first seen first.
	Warnings []string  `json:"warnings,omitempty"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

// Deferral is one distinct relation deferred, with how many times.
type Deferral struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Node  string `json:"node,omitempty"`
	Count int    `json:"count"`
}

// Refusal is one statement refused.
type Refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type record struct {
	Report
	index      map[[2]string]int
	statements atomic.Uint64
}

// maxRefusals bounds the refusals kept per tag, maxWarnings the distinct warnings.
const (
	maxRefusals = 100
	maxWarnings = 20
)

// OpenSession implements engine.Engine.
func (t *Tally) OpenSession(ctx context.Context, info engine.SessionInfo) engine.Session {
	s := t.inner.OpenSession(ctx, info)
	tag := t.tagOf(info)
	if tag == "" {
		return s
	}
	t.mu.Lock()
	r := t.byTag[tag]
	if r == nil {
		if len(t.byTag) >= maxTags {
			t.forgetOldest()
		}
		r = &record{Report: Report{Tag: tag, First: time.Now()}, index: map[[2]string]int{}}
		t.byTag[tag] = r
	}
	r.Sessions++
	r.Last = time.Now()
	t.mu.Unlock()
	return &session{Session: s, t: t, r: r}
}

func (t *Tally) forgetOldest() {
	var oldest string
	for tag, r := range t.byTag {
		if oldest == "" || r.Last.Before(t.byTag[oldest].Last) {
			oldest = tag
		}
	}
	delete(t.byTag, oldest)
}

// Report returns a copy of what tag's sessions did; false when no session had that tag.
func (t *Tally) Report(tag string) (Report, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.byTag[tag]
	if !ok {
		return Report{}, false
	}
	out := r.Report
	out.Statements = r.statements.Load()
	out.Deferrals = append([]Deferral{}, r.Deferrals...)
	out.Refusals = append([]Refusal{}, r.Refusals...)
	out.Warnings = append([]string(nil), r.Warnings...)
	return out, true
}

// Tags lists the tags known, most recent first (for tests and the admin listener).
func (t *Tally) Tags() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	tags := make([]string, 0, len(t.byTag))
	for tag := range t.byTag {
		tags = append(tags, tag)
	}
	sort.Slice(tags, func(i, j int) bool { return t.byTag[tags[i]].Last.After(t.byTag[tags[j]].Last) })
	return tags
}

type session struct {
	engine.Session
	t *Tally
	r *record
}

// CurrentSchema passes the warehouse's current database and schema on to the engine's session when it follows
// them (engine.SchemaTracker; Snowflake reports them with each result).
func (s *session) CurrentSchema(database, schema string) {
	if st, ok := s.Session.(interface{ CurrentSchema(database, schema string) }); ok {
		st.CurrentSchema(database, schema)
	}
}

// Statement records the verdict's deferrals and refusal; a verdict with neither costs an atomic add.
func (s *session) Statement(ctx context.Context, sql string) engine.Verdict {
	v := s.Session.Statement(ctx, sql)
	s.r.statements.Add(1)
	if len(v.Deferrals) == 0 && v.Refusal == nil && !hasWarning(v.Messages) {
		return v
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	r := s.r
	r.Last = time.Now()
	for _, d := range v.Deferrals {
		k := [2]string{d.From, d.To}
		if i, ok := r.index[k]; ok {
			r.Deferrals[i].Count++
			continue
		}
		r.index[k] = len(r.Deferrals)
		r.Deferrals = append(r.Deferrals, Deferral{From: d.From, To: d.To, Node: d.Node, Count: 1})
	}
	for _, m := range v.Messages {
		if m.Severity == engine.Warning && len(r.Warnings) < maxWarnings && !slices.Contains(r.Warnings, m.Text) {
			r.Warnings = append(r.Warnings, m.Text)
		}
	}
	if v.Refusal != nil && len(r.Refusals) < maxRefusals {
		r.Refusals = append(r.Refusals, Refusal{Code: v.Refusal.Code, Message: v.Refusal.Message})
	}
	return v
}

// ServerError implements engine.ErrorExplainer by asking the wrapped session, when it explains errors.
func (s *session) ServerError(ctx context.Context, err engine.ServerError) string {
	if x, ok := s.Session.(engine.ErrorExplainer); ok {
		return x.ServerError(ctx, err)
	}
	return ""
}

func hasWarning(ms []engine.Message) bool {
	for _, m := range ms {
		if m.Severity == engine.Warning {
			return true
		}
	}
	return false
}
