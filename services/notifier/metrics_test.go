package notifier

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestQueueFiguresAreExposedAsGaugesAndCounters(t *testing.T) {
	c := newStatsCollector(func(context.Context) (Stats, error) {
		return Stats{PendingEvents: 2, PendingMessages: 5, Sent: 40, Skipped: 3, Unreachable: 1, Failed: 2, Retries: 7, PossibleDuplicates: 1,
			SMSPending: 4, SMSSent: 30, SMSFailed: 1, SMSPossibleDuplicates: 2}, nil
	}, slog.New(slog.DiscardHandler))
	want := `
# HELP crm_notifier_possible_duplicates_total Messages sent again after Telegram's answer was lost; each may have been shown twice.
# TYPE crm_notifier_possible_duplicates_total counter
crm_notifier_possible_duplicates_total 1
# HELP crm_notifier_queue_depth Notifications waiting: task events not yet turned into messages (kind=events), messages not yet sent, retrying ones included (kind=messages).
# TYPE crm_notifier_queue_depth gauge
crm_notifier_queue_depth{kind="events"} 2
crm_notifier_queue_depth{kind="messages"} 5
# HELP crm_notifier_retries_total Send attempts after the first, over all messages.
# TYPE crm_notifier_retries_total counter
crm_notifier_retries_total 7
# HELP crm_notifier_messages_total Messages that reached an outcome: sent, skipped (no linked chat or no bot), unreachable (the user blocked the bot), failed (refused by Telegram for good).
# TYPE crm_notifier_messages_total counter
crm_notifier_messages_total{outcome="failed"} 2
crm_notifier_messages_total{outcome="sent"} 40
crm_notifier_messages_total{outcome="skipped"} 3
crm_notifier_messages_total{outcome="unreachable"} 1
# HELP crm_notifier_sms_possible_duplicates_total Customers' SMS sent again after the provider's answer was lost; each may have reached the phone twice.
# TYPE crm_notifier_sms_possible_duplicates_total counter
crm_notifier_sms_possible_duplicates_total 2
# HELP crm_notifier_sms_total Customers' SMS by state: pending (held for quiet hours included), sent (taken by the provider), failed (refused for good).
# TYPE crm_notifier_sms_total gauge
crm_notifier_sms_total{state="failed"} 1
crm_notifier_sms_total{state="pending"} 4
crm_notifier_sms_total{state="sent"} 30
# HELP crm_notifier_stats_up 1 when the queue's figures could be read at this scrape, 0 when the database did not answer.
# TYPE crm_notifier_stats_up gauge
crm_notifier_stats_up 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestAnUnreadableQueueShowsAsStatsDown(t *testing.T) {
	c := newStatsCollector(func(context.Context) (Stats, error) { return Stats{}, errors.New("database down") }, slog.New(slog.DiscardHandler))
	if n := testutil.CollectAndCount(c); n != 1 {
		t.Fatalf("%d metrics, want only stats_up", n)
	}
	if got := testutil.ToFloat64(c); got != 0 {
		t.Fatalf("stats_up = %v, want 0", got)
	}
}
