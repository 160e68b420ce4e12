package pollwatch

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// recorder counts what reaches the handler underneath, by figure name.
type recorder struct{ seen map[string]int }

func (r *recorder) WithTags(map[string]string) client.MetricsHandler { return r }
func (r *recorder) Counter(name string) client.MetricsCounter {
	return counterFunc(func(int64) { r.seen[name]++ })
}
func (r *recorder) Gauge(name string) client.MetricsGauge {
	return gaugeFunc(func(float64) { r.seen[name]++ })
}
func (r *recorder) Timer(name string) client.MetricsTimer {
	return timerFunc(func(time.Duration) { r.seen[name]++ })
}

type counterFunc func(int64)

func (f counterFunc) Inc(n int64) { f(n) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// fixture is a watch with the default bound on a settable clock, and the
// handler a worker would be given: the client's root tags already on it.
func fixture(t *testing.T) (*Watch, *clock, client.MetricsHandler, *recorder) {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	w, err := New(DefaultBound, c.now)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{seen: map[string]int{}}
	h := w.Handler(rec).WithTags(map[string]string{"namespace": "crm", workerTypeTag: "none"})
	return w, c, h, rec
}

func get(t *testing.T, w *Watch) (int, Report) {
	t.Helper()
	resp := httptest.NewRecorder()
	w.ServeHTTP(resp, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var r Report
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.Code, r
}

// pollBoth reports an empty poll back from each poller, as an idle worker
// sees every minute.
func pollBoth(h client.MetricsHandler) {
	h.WithTags(map[string]string{workerTypeTag: workflowWorkerType}).Counter(workflowPollEmpty).Inc(1)
	h.WithTags(map[string]string{workerTypeTag: activityWorkerType}).Counter(activityPollEmpty).Inc(1)
}

func TestPollsComingBackKeepTheWorkerHealthyLongPastTheBound(t *testing.T) {
	w, c, h, _ := fixture(t)
	for range 10 {
		c.advance(time.Minute)
		pollBoth(h)
		if code, r := get(t, w); code != http.StatusOK || r.Status != "polling" {
			t.Fatalf("after %s with a poll back every minute: %d %+v", c.t.Format(time.Kitchen), code, r)
		}
	}
}

func TestAWorkerStartsHealthyAndIsStuckWhenNoPollComesBackWithinTheBound(t *testing.T) {
	w, c, _, _ := fixture(t)
	if code, r := get(t, w); code != http.StatusOK {
		t.Fatalf("at the start: %d %+v", code, r)
	}
	c.advance(DefaultBound + time.Second)
	code, r := get(t, w)
	if code != http.StatusServiceUnavailable || r.Status != "stuck" {
		t.Fatalf("no poll back for %s: %d %+v", DefaultBound+time.Second, code, r)
	}
	for _, name := range []string{"workflow", "activity"} {
		if !strings.Contains(r.Pollers[name], "no poll back since the start 2m21s ago (bound 2m20s)") {
			t.Errorf("%s poller's reason: %q", name, r.Pollers[name])
		}
	}
}

func TestOnePollerStuckIsEnoughFor503AndOnlyItIsNamedStuck(t *testing.T) {
	w, c, h, _ := fixture(t)
	c.advance(time.Minute)
	pollBoth(h)
	for range 3 {
		c.advance(time.Minute)
		h.WithTags(map[string]string{workerTypeTag: workflowWorkerType}).Counter(workflowPollEmpty).Inc(1)
	}
	code, r := get(t, w)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("activity poller silent for 3m: %d %+v", code, r)
	}
	if r.Pollers["activity"] != "stuck: no poll back for 3m0s (bound 2m20s)" || !strings.HasPrefix(r.Pollers["workflow"], "a poll came back") {
		t.Errorf("reasons: %+v", r.Pollers)
	}
}

func TestAPollThatBringsATaskCountsAsAPollBack(t *testing.T) {
	w, c, h, _ := fixture(t)
	c.advance(2 * time.Minute)
	h.WithTags(map[string]string{"workflow_type": "TaskWorkflow"}).Counter(workflowPollTask).Inc(1)
	h.WithTags(map[string]string{"activity_type": "EnterProcess"}).Timer(activityPollTask).Record(time.Millisecond)
	c.advance(time.Minute)
	if code, r := get(t, w); code != http.StatusOK {
		t.Fatalf("a task taken by each poller a minute ago: %d %+v", code, r)
	}
}

func TestAPollerWithNoFreeSlotIsBusyNotStuckAndItsBoundRestartsWhenOneFrees(t *testing.T) {
	w, c, h, _ := fixture(t)
	activity := h.WithTags(map[string]string{workerTypeTag: activityWorkerType})
	slots := activity.Gauge(slotsAvailable)
	slots.Update(0)
	for range 10 {
		c.advance(time.Minute)
		h.WithTags(map[string]string{workerTypeTag: workflowWorkerType}).Counter(workflowPollEmpty).Inc(1)
	}
	code, r := get(t, w)
	if code != http.StatusOK || !strings.HasPrefix(r.Pollers["activity"], "busy") {
		t.Fatalf("activity slots all taken for 10m: %d %+v", code, r)
	}
	slots.Update(3)
	c.advance(time.Minute)
	h.WithTags(map[string]string{workerTypeTag: workflowWorkerType}).Counter(workflowPollEmpty).Inc(1)
	if code, r := get(t, w); code != http.StatusOK {
		t.Fatalf("a slot free for a minute, no poll back yet: %d %+v", code, r)
	}
	c.advance(2 * time.Minute)
	h.WithTags(map[string]string{workerTypeTag: workflowWorkerType}).Counter(workflowPollEmpty).Inc(1)
	if code, r := get(t, w); code != http.StatusServiceUnavailable || !strings.HasPrefix(r.Pollers["activity"], "stuck") {
		t.Fatalf("a slot free for 3m, no poll back: %d %+v", code, r)
	}
}

func TestEveryFigureStillReachesTheHandlerUnderneath(t *testing.T) {
	_, _, h, rec := fixture(t)
	pollBoth(h)
	h.Counter("temporal_request").Inc(1)
	h.WithTags(map[string]string{workerTypeTag: activityWorkerType}).Gauge(slotsAvailable).Update(10)
	h.Timer(activityPollTask).Record(time.Second)
	h.Timer("temporal_request_latency").Record(time.Second)
	for _, name := range []string{workflowPollEmpty, activityPollEmpty, "temporal_request", slotsAvailable, activityPollTask, "temporal_request_latency"} {
		if rec.seen[name] != 1 {
			t.Errorf("%s reached the handler underneath %d times, want 1", name, rec.seen[name])
		}
	}
	if u, ok := h.(interface{ Unwrap() client.MetricsHandler }); !ok || u.Unwrap() != client.MetricsHandler(rec) {
		t.Error("Unwrap does not give the handler underneath")
	}
}

func TestABoundShorterThanTheLongPollIsRefused(t *testing.T) {
	if _, err := New(time.Minute, time.Now); err == nil || !strings.Contains(err.Error(), "long-poll timeout") {
		t.Fatalf("a one-minute bound: %v", err)
	}
}
