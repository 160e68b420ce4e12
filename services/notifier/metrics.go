package notifier

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telecomcrm/crm/services/platform/metrics"
)

// statsCollector exposes the delivery queue's figures (Stats) to
// Prometheus, read from the tables at each scrape: the depth of the queue
// as gauges, the outcomes, retries and possible duplicates as counters
// (their totals survive the purge of old messages, so they only grow).
type statsCollector struct {
	stats   func(context.Context) (Stats, error)
	log     *slog.Logger
	timeout time.Duration

	depth, messages, retries, duplicates, sms, smsDuplicates, up *prometheus.Desc
}

func newStatsCollector(stats func(context.Context) (Stats, error), log *slog.Logger) *statsCollector {
	name := func(n string) string { return prometheus.BuildFQName(metrics.Namespace, Name, n) }
	return &statsCollector{
		stats: stats, log: log, timeout: 5 * time.Second,
		depth: prometheus.NewDesc(name("queue_depth"),
			"Notifications waiting: task events not yet turned into messages (kind=events), messages not yet sent, retrying ones included (kind=messages).",
			[]string{"kind"}, nil),
		messages: prometheus.NewDesc(name("messages_total"),
			"Messages that reached an outcome: sent, skipped (no linked chat or no bot), unreachable (the user blocked the bot), failed (refused by Telegram for good).",
			[]string{"outcome"}, nil),
		retries: prometheus.NewDesc(name("retries_total"),
			"Send attempts after the first, over all messages.", nil, nil),
		duplicates: prometheus.NewDesc(name("possible_duplicates_total"),
			"Messages sent again after Telegram's answer was lost; each may have been shown twice.", nil, nil),
		sms: prometheus.NewDesc(name("sms_total"),
			"Customers' SMS by state: pending (held for quiet hours included), sent (taken by the provider), failed (refused for good).",
			[]string{"state"}, nil),
		smsDuplicates: prometheus.NewDesc(name("sms_possible_duplicates_total"),
			"Customers' SMS sent again after the provider's answer was lost; each may have reached the phone twice.", nil, nil),
		up: prometheus.NewDesc(name("stats_up"),
			"1 when the queue's figures could be read at this scrape, 0 when the database did not answer.", nil, nil),
	}
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.messages, c.retries, c.duplicates, c.sms, c.smsDuplicates, c.up} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		c.log.Warn("reading the queue's figures for the metrics failed", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(st.PendingEvents), "events")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(st.PendingMessages), "messages")
	for outcome, n := range map[string]int64{"sent": st.Sent, "skipped": st.Skipped, "unreachable": st.Unreachable, "failed": st.Failed} {
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.CounterValue, float64(n), outcome)
	}
	ch <- prometheus.MustNewConstMetric(c.retries, prometheus.CounterValue, float64(st.Retries))
	ch <- prometheus.MustNewConstMetric(c.duplicates, prometheus.CounterValue, float64(st.PossibleDuplicates))
	for state, n := range map[string]int64{"pending": st.SMSPending, "sent": st.SMSSent, "failed": st.SMSFailed} {
		ch <- prometheus.MustNewConstMetric(c.sms, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(c.smsDuplicates, prometheus.CounterValue, float64(st.SMSPossibleDuplicates))
}
