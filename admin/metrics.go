package admin

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// registerMetrics fills the Server's private registry (no global registry: two servers in one process, as in tests,
// must not collide). Session counters are read from the proxy at scrape time, so the hot path pays nothing.
func (s *Server) registerMetrics() error {
	sessions := func() SessionStats {
		if s.cfg.Sessions == nil {
			return SessionStats{}
		}
		return s.cfg.Sessions()
	}
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "deferproxy_sessions_active",
			Help: "Client sessions currently open through the proxy.",
		}, func() float64 { return float64(sessions().Active) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "deferproxy_sessions_total",
			Help: "Client sessions accepted since the proxy started.",
		}, func() float64 { return float64(sessions().Total) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "deferproxy_sessions_rejected_total",
			Help: "Connections refused with 53300 because max_client_conns sessions were open.",
		}, func() float64 { return float64(sessions().Rejected) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "deferproxy_cancel_requests_total",
			Help: "CancelRequests forwarded to the upstream.",
		}, func() float64 { return float64(sessions().Cancels) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "deferproxy_build_info",
			Help:        "Always 1; the version label says which deferproxy is running.",
			ConstLabels: prometheus.Labels{"version": s.cfg.Version},
		}, func() float64 { return 1 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "deferproxy_engine_enabled",
			Help: "1 when the defer engine is wired in, 0 when the proxy runs pass-through.",
		}, func() float64 {
			if s.cfg.Engine != nil {
				return 1
			}
			return 0
		}),
	}
	// The engine exposes its own metrics (deferrals, catalog lookups …) by being a Collector.
	if c, ok := s.cfg.Engine.(prometheus.Collector); ok && s.cfg.Engine != nil {
		cs = append(cs, c)
	}
	for _, c := range cs {
		if err := s.reg.Register(c); err != nil {
			return fmt.Errorf("admin: register metrics: %w", err)
		}
	}
	return nil
}
