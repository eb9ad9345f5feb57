package deferral

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
	"github.com/deferproxy/deferproxy/engine"
	"github.com/deferproxy/deferproxy/internal/age"
	"github.com/deferproxy/deferproxy/rewrite"
)

// report is what one decided statement string tells the client (SPEC §7) and counts, before the once-per-session
// parts (the first notice's manifest detail, the stale-manifest warning) that deliver adds. It holds no session
// state and no memory of the statement text, so the memo can keep it.
type report struct {
	items        []reportItem
	deferred     []engine.Deferral
	deferrals    int
	introspected bool
	// devRels are the dev relations deferred and listed the dev schemas its catalog queries list (listing.go).
	devRels []catalog.Relation
	listed  []string
}

type reportKind uint8

const (
	itemDeferral reportKind = iota // a statement's deferrals: its NOTICE (msg "" with notices: off), then the stale check
	itemWarning
	itemNotice
)

type reportItem struct {
	kind reportKind
	msg  string
}

// buildReport turns an outcome into the client report, in statement order.
func (e *Engine) buildReport(an *rewrite.Analysis, o outcome, prod *catalog.Manifest) *report {
	r := &report{deferrals: len(o.deferrals), introspected: len(o.literals) > 0}
	if len(o.decisions) == 0 {
		return r
	}
	swapped := make(map[int]bool, len(o.deferrals))
	for _, d := range o.deferrals {
		swapped[d.Ref.Start] = true
	}
	byStmt := map[int][]decided{}
	var cross []decided
	for _, d := range o.decisions {
		if d.dec.Action == catalog.Defer && swapped[d.ref.Start] {
			byStmt[d.ref.Statement] = append(byStmt[d.ref.Statement], d)
		} else if d.dec.CrossDatabase {
			cross = append(cross, d)
		}
	}
	for i := range an.Statements {
		list := byStmt[i]
		if len(list) == 0 {
			continue
		}
		for _, d := range list {
			r.deferred = append(r.deferred, engine.Deferral{Statement: i, Node: strings.Clone(o.comments[i].NodeID),
				From: dialectName(d.dec.Dev, an.Dialect), To: dialectName(d.dec.Prod, an.Dialect)})
			r.devRels = append(r.devRels, d.dec.Dev)
		}
		it := reportItem{kind: itemDeferral}
		if e.cfg.Notices != "off" {
			it.msg = deferNotice(list, prod)
		}
		r.items = append(r.items, it)
		if k := strings.ToUpper(an.Statements[i].Kind); k == "CREATE VIEW" {
			r.items = append(r.items, reportItem{kind: itemWarning, msg: fmt.Sprintf(
				"deferproxy: this dev view reads %d deferred production relation(s); a production rebuild (drop … cascade) will drop it: dbt run it again, or materialize it as a table",
				len(list))})
		}
	}
	if len(cross) > 0 && e.cfg.Notices != "off" {
		names := make([]string, 0, len(cross))
		for _, d := range cross {
			names = append(names, shortName(d.dec.Dev)+" → "+d.dec.Prod.String())
		}
		r.items = append(r.items, reportItem{kind: itemNotice, msg: "deferproxy did not defer " + strings.Join(names, ", ") +
			": production is in another database, which PostgreSQL cannot read from this one"})
	}
	return r
}

// deliver counts a report and turns it into the session's notices: the first deferral notice of a session (every
// one with notices: all) names the production manifest, and a stale manifest is reported once per session.
func (s *session) deliver(r *report, prod *catalog.Manifest) []engine.Message {
	e := s.e
	if r.introspected {
		e.introspected.Add(1)
	}
	if r.deferrals > 0 {
		e.rewritten.Add(1)
		e.deferrals.Add(uint64(r.deferrals))
		s.deferrals.Add(uint64(r.deferrals))
	}
	if len(r.items) == 0 && len(r.deferred) == 0 {
		return nil
	}
	now := time.Now()
	for _, d := range r.deferred {
		e.recent.add(RecentDeferral{At: now, Session: s.info.ID, NodeID: d.Node, From: d.From, To: d.To})
	}
	var out []engine.Message
	md := prod.Metadata()
	for _, it := range r.items {
		switch it.kind {
		case itemWarning:
			out = append(out, warning(it.msg))
		case itemNotice:
			out = append(out, notice(it.msg))
		case itemDeferral:
			s.mu.Lock()
			first := !s.toldRun && it.msg != ""
			if it.msg != "" {
				s.toldRun = true
			}
			stale := !md.GeneratedTime.IsZero() && now.Sub(md.GeneratedTime) > e.cfg.StaleAfter && !s.warnedStale
			if stale {
				s.warnedStale = true
			}
			s.mu.Unlock()
			if it.msg != "" {
				n := notice(it.msg)
				if first || e.cfg.Notices == "all" {
					n.Detail = runDetail(prod, e.prod.Source())
				}
				out = append(out, n)
			}
			if stale {
				out = append(out, warning(fmt.Sprintf(
					"deferproxy: the production manifest is stale: generated %s ago (stale_after %s); deferred reads may not match production",
					age.Human(now.Sub(md.GeneratedTime)), e.cfg.StaleAfter)))
			}
		}
	}
	return out
}

// runDetail is the first NOTICE's DETAIL: the production run by its identity, link included, and the manifest.
func runDetail(prod *catalog.Manifest, source string) string {
	md, run := prod.Metadata(), prod.Run()
	var b strings.Builder
	b.WriteString("production run ")
	b.WriteString(runLabel(prod))
	if !run.FinishedAt.IsZero() {
		b.WriteString(", finished ")
		b.WriteString(run.FinishedAt.UTC().Format(time.RFC3339))
	}
	if run.URL != "" {
		b.WriteString(", ")
		b.WriteString(run.URL)
	}
	b.WriteString("; manifest ")
	b.WriteString(source)
	b.WriteString(": invocation_id ")
	b.WriteString(md.InvocationID)
	b.WriteString(", dbt ")
	b.WriteString(md.DbtVersion)
	b.WriteString(", generated_at ")
	b.WriteString(md.GeneratedAt)
	return b.String()
}

// deferNotice is the SPEC §7 message: deferred N relations to production run <label> (<generated_at>): a → b, …
func deferNotice(list []decided, prod *catalog.Manifest) string {
	md := prod.Metadata()
	var b strings.Builder
	b.Grow(96 + 64*len(list))
	if len(list) == 1 {
		b.WriteString("deferred 1 relation")
	} else {
		b.WriteString("deferred ")
		b.WriteString(strconv.Itoa(len(list)))
		b.WriteString(" relations")
	}
	b.WriteString(" to production run ")
	b.WriteString(runLabel(prod))
	b.WriteString(" (")
	b.WriteString(md.GeneratedAt)
	b.WriteString("): ")
	for i, d := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(shortName(d.dec.Dev))
		b.WriteString(" → ")
		b.WriteString(shortName(d.dec.Prod))
	}
	return b.String()
}

// dialectName is shortName as the session's warehouse writes names: Snowflake's unquoted upper case
// (ANALYTICS.STG_ORDERS), PostgreSQL's quote_ident rules otherwise.
func dialectName(r catalog.Relation, d rewrite.Dialect) string {
	if d != rewrite.Snowflake {
		return shortName(r)
	}
	return rewrite.QuoteIdent(r.Schema, d) + "." + rewrite.QuoteIdent(r.Identifier, d)
}

// shortName renders schema.identifier (the database is the session's, or said elsewhere).
func shortName(r catalog.Relation) string {
	return catalog.Relation{Schema: r.Schema, Identifier: r.Identifier}.String()
}
