package deferral

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/rewrite"
)

// dbt answers adapter.get_relation — and the macros built on it: dbt_utils.get_column_values (and pivot over it),
// union_relations' checks, get_relations_by_pattern/prefix — from its own listing of the dev schema
// (list_relations_without_caching, a catalog query). deferproxy leaves that listing true (dbt decides
// create-versus-replace from it, and the query names no node), so those macros see a deferred relation as missing
// where native --defer sees production. listingWatch makes that loud: when one dbt invocation both lists a dev schema
// and has a relation of that schema deferred, the developer is warned once per invocation and schema.
type listingWatch struct {
	mu     sync.Mutex
	invs   map[string]*invListing
	warned uint64           // (invocation, schema) pairs warned about since start
	recent []ListingWarning // the latest, oldest first
	now    func() time.Time
}

// invListing is what one invocation listed and had deferred.
type invListing struct {
	listed   map[string]bool     // dev schemas listed
	deferred map[string][]string // dev schema → identifiers deferred (first few)
	warned   map[string]bool
	last     time.Time
}

// ListingWarning is one invocation that listed a dev schema lacking relations deferproxy then deferred (status).
type ListingWarning struct {
	At         time.Time `json:"at"`
	Invocation string    `json:"invocation"` // dbt's invocation_id, else "tag <exec tag>" or "session <n>"
	Schema     string    `json:"schema"`
	Relations  []string  `json:"relations"`
}

const (
	maxListingInvocations = 256 // invocations remembered (the idlest forgotten first)
	maxListingRecent      = 20  // warnings kept for status
	maxListingRelations   = 5   // relations named per warning
)

func newListingWatch() *listingWatch {
	return &listingWatch{invs: map[string]*invListing{}, now: time.Now}
}

// note records what one statement of invocation key listed and deferred; it returns the warnings this completes.
func (w *listingWatch) note(key string, listed []string, deferred []catalog.Relation) []ListingWarning {
	if key == "" || len(listed) == 0 && len(deferred) == 0 {
		return nil
	}
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	iv := w.invs[key]
	if iv == nil {
		if len(w.invs) >= maxListingInvocations {
			w.evictLocked()
		}
		iv = &invListing{listed: map[string]bool{}, deferred: map[string][]string{}, warned: map[string]bool{}}
		key = strings.Clone(key)
		w.invs[key] = iv
	}
	iv.last = now
	touched := map[string]bool{}
	for _, s := range listed {
		if !iv.listed[s] {
			iv.listed[s] = true
			touched[s] = true
		}
	}
	for _, r := range deferred {
		if ids := iv.deferred[r.Schema]; !slices.Contains(ids, r.Identifier) && len(ids) < maxListingRelations {
			iv.deferred[r.Schema] = append(ids, r.Identifier)
			touched[r.Schema] = true
		}
	}
	var out []ListingWarning
	for s := range touched {
		if !iv.listed[s] || len(iv.deferred[s]) == 0 || iv.warned[s] {
			continue
		}
		iv.warned[s] = true
		lw := ListingWarning{At: now, Invocation: key, Schema: s, Relations: slices.Clone(iv.deferred[s])}
		out = append(out, lw)
		w.warned++
		w.recent = append(w.recent, lw)
		if len(w.recent) > maxListingRecent {
			w.recent = w.recent[1:]
		}
	}
	return out
}

func (w *listingWatch) evictLocked() {
	var oldest string
	for k, iv := range w.invs {
		if oldest == "" || iv.last.Before(w.invs[oldest].last) {
			oldest = k
		}
	}
	delete(w.invs, oldest)
}

// status returns how many warnings were raised and the latest, newest first.
func (w *listingWatch) status() (uint64, []ListingWarning) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.recent)
	slices.Reverse(out)
	return w.warned, out
}

// listingMacros names the dbt macros that see a deferred relation as missing, for every text that warns about it.
const listingMacros = "adapter.get_relation and the macros over it — dbt_utils.get_column_values (and pivot over " +
	"it), union_relations, get_relations_by_pattern/get_relations_by_prefix — answer from that listing"

// listingText is the warning the developer gets (log, client WARNING, exec summary).
func listingText(lw ListingWarning) string {
	return fmt.Sprintf("deferproxy: this dbt invocation listed dev schema %s, which lacks %s that deferproxy reads "+
		"from production: %s, so they see %s missing (a default value, a skipped relation) where native --defer sees "+
		"production. Build %s in dev (dbt run -s …), or see README \"Differences from native defer\"",
		catalog.Relation{Identifier: lw.Schema}, strings.Join(lw.Relations, ", "), listingMacros,
		map[bool]string{true: "it", false: "them"}[len(lw.Relations) == 1], map[bool]string{true: "it", false: "them"}[len(lw.Relations) == 1])
}

// listedSchemas returns the dev schemas the catalog queries of an analysed string list: a schema literal naming a
// dev schema, with no relation-name literal or only a LIKE pattern (dbt's list_relations_without_caching,
// dbt_utils.get_relations_by_pattern).
func listedSchemas(an *rewrite.Analysis, ts *targetState, t targetKey, db string) []string {
	var out []string
	for i := range an.Statements {
		st := &an.Statements[i]
		if !st.CatalogQuery || len(st.Literals) == 0 {
			continue
		}
		schema, one, single := "", true, true
		for _, l := range st.Literals {
			switch l.Part {
			case rewrite.PartSchema:
				if schema != "" && l.Value != schema {
					one = false
				}
				schema = l.Value
			case rewrite.PartName:
				if !strings.Contains(l.Value, "%") {
					single = false // one relation's introspection (SPEC §5.5), not a listing
				}
			}
		}
		if schema == "" || !one || !single || slices.Contains(out, schema) {
			continue
		}
		if isDevSchema(ts, catalog.Relation{Database: db, Schema: schema}, t) {
			out = append(out, schema)
		}
	}
	return out
}

// invocationKey is what ties a dbt invocation's sessions together: the query comment's invocation_id, else the
// `deferproxy exec` tag, else the session.
func (s *session) invocationKey(qc catalog.QueryComment) string {
	switch {
	case qc.InvocationID != "":
		return qc.InvocationID
	case s.target.tag != "":
		return "tag " + s.target.tag
	}
	return "session " + strconv.FormatUint(s.info.ID, 10)
}

// noteListings hands a statement's listings and deferrals to the engine's watch and returns the warnings for the
// client; each is logged once.
func (s *session) noteListings(qc catalog.QueryComment, r *report) []engine.Message {
	if len(r.listed) == 0 && len(r.devRels) == 0 {
		return nil
	}
	s.mu.Lock()
	dbt := s.dbt
	s.mu.Unlock()
	if !dbt && qc.App == "" {
		return nil // an IDE's or BI tool's listing: not dbt's get_relation
	}
	var out []engine.Message
	for _, lw := range s.e.listings.note(s.invocationKey(qc), r.listed, r.devRels) {
		text := listingText(lw)
		s.e.log.Warn("dbt listed a dev schema that lacks relations deferproxy defers: get_relation-based macros see them missing",
			"session", s.info.ID, "invocation", lw.Invocation, "schema", lw.Schema, "relations", strings.Join(lw.Relations, ","))
		out = append(out, warning(text))
	}
	return out
}
