package deferral

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The defer engine's metrics, read from its Status at scrape time (the hot path pays nothing). The Engine is a
// prometheus.Collector; the admin listener registers whatever engine status it is given that is one.
var (
	descStatements = prometheus.NewDesc("deferproxy_statements_total",
		"Statements seen by the defer engine.", nil, nil)
	descRewritten = prometheus.NewDesc("deferproxy_statements_rewritten_total",
		"Statements forwarded with at least one relation deferred to production.", nil, nil)
	descDeferrals = prometheus.NewDesc("deferproxy_deferrals_total",
		"Relation references deferred to production.", nil, nil)
	descRefused = prometheus.NewDesc("deferproxy_statements_refused_total",
		"Statements refused by the proxy (production write guard, invalid SET deferproxy.mode).", nil, nil)
	descFailedOpen = prometheus.NewDesc("deferproxy_statements_failed_open_total",
		"Statements forwarded unchanged because they could not be parsed or the dev catalog could not be read.", nil, nil)
	descIntrospection = prometheus.NewDesc("deferproxy_introspection_rewrites_total",
		"Catalog (introspection) queries whose literals were rewritten to production.", nil, nil)
	descMemoHits = prometheus.NewDesc("deferproxy_statements_memo_hits_total",
		"Statements answered from a session's memo of repeated statements (no analysis or decision).", nil, nil)
	descAnalysis = prometheus.NewDesc("deferproxy_statement_analyses_total",
		"Statements analysed past the prefilter, by how: exact (cached text), shape (cached text but for literal values), parse.",
		[]string{"source"}, nil)
	descSessions = prometheus.NewDesc("deferproxy_engine_sessions",
		"Sessions open in the defer engine, by mode.", []string{"mode"}, nil)
	descManifestLoaded = prometheus.NewDesc("deferproxy_manifest_loaded",
		"1 when a production manifest is loaded.", nil, nil)
	descManifestAge = prometheus.NewDesc("deferproxy_manifest_age_seconds",
		"Age of the loaded production manifest (now - generated_at).", nil, nil)
	descManifestStale = prometheus.NewDesc("deferproxy_manifest_stale",
		"1 when the loaded production manifest is older than stale_after.", nil, nil)
)

// Describe implements prometheus.Collector.
func (e *Engine) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatements, descRewritten, descDeferrals, descRefused, descFailedOpen,
		descIntrospection, descMemoHits, descAnalysis, descSessions, descManifestLoaded, descManifestAge, descManifestStale} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *Engine) Collect(ch chan<- prometheus.Metric) {
	st := e.Status()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(descStatements, st.Statements)
	counter(descRewritten, st.Rewritten)
	counter(descDeferrals, st.Deferrals)
	counter(descRefused, st.Refused)
	counter(descFailedOpen, st.FailedOpen)
	counter(descIntrospection, st.IntrospectionRW)
	counter(descMemoHits, st.MemoHits)
	for src, v := range map[string]uint64{"exact": st.AnalysisHits, "shape": st.AnalysisShapeHits, "parse": st.Parses} {
		ch <- prometheus.MustNewConstMetric(descAnalysis, prometheus.CounterValue, float64(v), src)
	}
	modes := map[string]float64{"defer": 0, "favor_state": 0, "off": 0}
	for _, ss := range st.Sessions {
		modes[ss.Mode]++
	}
	for m, n := range modes {
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, n, m)
	}
	loaded, stale := 0.0, 0.0
	if p := st.Production; p != nil {
		loaded = 1
		if p.Stale {
			stale = 1
		}
		ch <- prometheus.MustNewConstMetric(descManifestAge, prometheus.GaugeValue, p.AgeSeconds)
	}
	ch <- prometheus.MustNewConstMetric(descManifestLoaded, prometheus.GaugeValue, loaded)
	ch <- prometheus.MustNewConstMetric(descManifestStale, prometheus.GaugeValue, stale)
}
