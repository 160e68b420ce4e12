package task

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telecomcrm/crm/services/platform/metrics"
)

// stuckCollector exposes how many tasks are stuck (their workflow could
// not write a step; see docs/RUNBOOK-STUCK.md), read from the read model
// at each scrape, so the figure is right whichever replica answers and
// after restarts. Alert on it staying above zero.
type stuckCollector struct {
	count func(context.Context) (int64, error)
	log   *slog.Logger
	desc  *prometheus.Desc
}

func newStuckCollector(count func(context.Context) (int64, error), log *slog.Logger) *stuckCollector {
	return &stuckCollector{count: count, log: log, desc: prometheus.NewDesc(
		prometheus.BuildFQName(metrics.Namespace, Name, "stuck_tasks"),
		"Tasks whose workflow could not write a step after retrying; each retries with backoff until an engineer fixes the cause.",
		nil, nil)}
}

func (c *stuckCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stuckCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.count(ctx)
	if err != nil {
		// no sample rather than a wrong one; the scrape still succeeds
		c.log.Warn("counting stuck tasks for the metrics failed", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
