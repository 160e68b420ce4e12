package taskflow

import (
	"testing"
	"time"
)

// A task waits for its next deadline on one timer: commands that leave the
// deadline where it was keep that timer, and one that moves it cancels the
// old, so no timer fires for a deadline the task has left behind.
func TestATaskKeepsOneTimerForItsNextDeadline(t *testing.T) {
	h := newHarness(t)
	r := route()
	r.Processes[0].SLASeconds = hour
	var started, cancelled int
	var fired []time.Duration
	start := h.env.Now()
	h.env.SetOnTimerScheduledListener(func(string, time.Duration) { started++ })
	h.env.SetOnTimerCanceledListener(func(string) { cancelled++ })
	h.env.SetOnTimerFiredListener(func(string) { fired = append(fired, h.env.Now().Sub(start)) })
	h.send(10*time.Minute, UpdateComment, Comment{Actor: member, Text: "called the customer"})
	h.send(20*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	for i := range 3 {
		h.send(time.Duration(30+10*i)*time.Minute, UpdateComment, Comment{Actor: member, Text: "on the way"})
	}
	h.send(3*time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "duplicate request"})
	h.run(h.input(r))

	if started != 2 || cancelled != 1 {
		t.Errorf("%d timers started and %d cancelled, want 2 and 1: one for each SLA, the first cancelled on leaving its process", started, cancelled)
	}
	if len(fired) != 0 {
		t.Errorf("timers fired at %v, want none: the task left the first SLA at 20 min and was cancelled before the second", fired)
	}
	if got := h.model.stepsOf(slaBreached); len(got) != 0 {
		t.Errorf("SLA breaches %v, want none", got)
	}
}

// A stuck task healed by a retry before its backoff ran out drops the
// backoff's timer.
func TestARetryBeforeTheBackoffCancelsItsTimer(t *testing.T) {
	quickRetries(t)
	h := newHarness(t)
	// Timers of a second and more: the local activity's retries wait on
	// timers of a millisecond here.
	waits := map[string]bool{}
	h.env.SetOnTimerScheduledListener(func(id string, d time.Duration) { waits[id] = d >= time.Second })
	var fired []time.Duration
	start := h.env.Now()
	h.env.SetOnTimerFiredListener(func(id string) {
		if waits[id] {
			fired = append(fired, h.env.Now().Sub(start))
		}
	})
	h.at(30*time.Second, func() { h.model.setDown(true) })
	failed := h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.at(90*time.Second, func() { h.model.setDown(false) })
	retried := h.send(105*time.Second, UpdateRetry, Retry{Actor: manager})
	h.send(10*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "end the test"})
	h.run(h.input(route()))

	if !failed.refusedAs(ErrStuck) || !retried.done || retried.failed != nil {
		t.Fatalf("advance %+v, retry %+v: want the task stuck, then healed by the retry", failed, retried)
	}
	if len(fired) != 0 {
		t.Errorf("timers fired at %v, want none: the retry at 1 min 45 s came before the backoff's", fired)
	}
}
