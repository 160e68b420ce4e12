// Package pollwatch tells whether a Temporal worker is still polling its
// task queue, for the worker's /healthz.
//
// A worker's pollers hold long polls open against Temporal: each comes
// back with a task, or empty when the server's long-poll timeout (a
// minute) runs out, and the SDK counts every one that comes back through
// the client's metrics handler. Watch wraps that handler and keeps, for
// the workflow poller and the activity poller, when a poll last came back.
// A poller with none back within the bound is stuck — Temporal out of
// reach, the worker stopped by a fatal error, its pollers wedged — and a
// restart is the cure; a poller with no free slot is busy, not stuck.
package pollwatch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// The SDK's figures this package reads (go.temporal.io/sdk's
// internal/common/metrics): a poll that came back, empty or with a task,
// and the free slots of each worker type.
const (
	workflowPollEmpty  = "temporal_workflow_task_queue_poll_empty"
	workflowPollTask   = "temporal_workflow_task_queue_poll_succeed"
	activityPollEmpty  = "temporal_activity_poll_no_task"
	activityPollTask   = "temporal_activity_schedule_to_start_latency"
	slotsAvailable     = "temporal_worker_task_slots_available"
	workerTypeTag      = "worker_type"
	workflowWorkerType = "WorkflowWorker"
	activityWorkerType = "ActivityWorker"
	// longPollTimeout is how long the SDK holds a poll open.
	longPollTimeout = 70 * time.Second
)

// DefaultBound is twice the SDK's long-poll timeout: an idle queue
// answers every poll within a minute, so a healthy poller is never near it.
const DefaultBound = 2 * longPollTimeout

// Watch keeps when each poller's last poll came back. It is safe for
// concurrent use.
type Watch struct {
	bound time.Duration
	now   func() time.Time

	mu      sync.Mutex
	pollers map[string]*poller // by worker type
}

type poller struct {
	name string
	// since is when a poll last came back, or when watching began.
	since  time.Time
	polled bool
	// busy: no free slot, so the poller waits for a task to finish
	// instead of polling.
	busy bool
}

// New watches against bound (at least the SDK's 70-second long-poll
// timeout, or an idle worker would seem stuck); now is the clock.
func New(bound time.Duration, now func() time.Time) (*Watch, error) {
	if bound < longPollTimeout {
		return nil, fmt.Errorf("the poll bound %s is shorter than the long-poll timeout (%s): an idle worker would be restarted", bound, longPollTimeout)
	}
	start := now()
	return &Watch{bound: bound, now: now, pollers: map[string]*poller{
		workflowWorkerType: {name: "workflow", since: start},
		activityWorkerType: {name: "activity", since: start},
	}}, nil
}

// Handler wraps the Temporal client's metrics handler: every figure still
// reaches next, and those that say a poll came back are noted here too.
func (w *Watch) Handler(next client.MetricsHandler) client.MetricsHandler {
	return handler{next: next, w: w}
}

func (w *Watch) polled(workerType string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pollers[workerType]
	p.since, p.polled = w.now(), true
}

// slots notes a worker type's free slots. A poller that had none starts
// its bound afresh when one frees, as if it had just begun.
func (w *Watch) slots(workerType string, free float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.pollers[workerType]
	if !ok {
		return
	}
	busy := free <= 0
	if p.busy && !busy {
		p.since = w.now()
	}
	p.busy = busy
}

// Report is /healthz's answer: the verdict and each poller's state.
type Report struct {
	Status  string            `json:"status"`
	Pollers map[string]string `json:"pollers"`
}

// Check reports whether every poller has had a poll back within the
// bound (or is busy); healthy is false when one has not.
func (w *Watch) Check() (r Report, healthy bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	r = Report{Status: "polling", Pollers: map[string]string{}}
	healthy = true
	for _, p := range w.pollers {
		age := now.Sub(p.since).Round(time.Second)
		switch {
		case p.busy:
			r.Pollers[p.name] = "busy: no free slot to poll with"
		case age <= w.bound && p.polled:
			r.Pollers[p.name] = fmt.Sprintf("a poll came back %s ago", age)
		case age <= w.bound:
			r.Pollers[p.name] = fmt.Sprintf("no poll back yet, started %s ago", age)
		case p.polled:
			r.Pollers[p.name], healthy = fmt.Sprintf("stuck: no poll back for %s (bound %s)", age, w.bound), false
		default:
			r.Pollers[p.name], healthy = fmt.Sprintf("stuck: no poll back since the start %s ago (bound %s)", age, w.bound), false
		}
	}
	if !healthy {
		r.Status = "stuck"
	}
	return r, healthy
}

// ServeHTTP answers 200 while the worker polls and 503 with the reason
// when a poller is stuck.
func (w *Watch) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	r, healthy := w.Check()
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	if !healthy {
		rw.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(rw).Encode(r)
}

// handler passes every figure to next; it remembers the worker type its
// tags named, because the SDK tags the slot figures by it.
type handler struct {
	next       client.MetricsHandler
	w          *Watch
	workerType string
}

func (h handler) WithTags(tags map[string]string) client.MetricsHandler {
	if t, ok := tags[workerTypeTag]; ok {
		h.workerType = t
	}
	h.next = h.next.WithTags(tags)
	return h
}

func (h handler) Counter(name string) client.MetricsCounter {
	c := h.next.Counter(name)
	switch name {
	case workflowPollEmpty, workflowPollTask:
		return counter{c, func() { h.w.polled(workflowWorkerType) }}
	case activityPollEmpty:
		return counter{c, func() { h.w.polled(activityWorkerType) }}
	}
	return c
}

func (h handler) Gauge(name string) client.MetricsGauge {
	g := h.next.Gauge(name)
	if name == slotsAvailable {
		workerType := h.workerType
		return gauge{g, func(v float64) { h.w.slots(workerType, v) }}
	}
	return g
}

func (h handler) Timer(name string) client.MetricsTimer {
	t := h.next.Timer(name)
	if name == activityPollTask {
		return timer{t, func() { h.w.polled(activityWorkerType) }}
	}
	return t
}

// Unwrap is the SDK's way to reach the handler underneath.
func (h handler) Unwrap() client.MetricsHandler { return h.next }

type counter struct {
	client.MetricsCounter
	seen func()
}

func (c counter) Inc(n int64) {
	c.MetricsCounter.Inc(n)
	c.seen()
}

type gauge struct {
	client.MetricsGauge
	seen func(float64)
}

func (g gauge) Update(v float64) {
	g.MetricsGauge.Update(v)
	g.seen(v)
}

type timer struct {
	client.MetricsTimer
	seen func()
}

func (t timer) Record(d time.Duration) {
	t.MetricsTimer.Record(d)
	t.seen()
}
