package taskflow

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// quickRetries shortens a step's bounded retry so a test does not wait
// seconds of real time for each stuck write.
func quickRetries(t *testing.T) {
	old := stepRetry
	stepRetry = temporal.RetryPolicy{InitialInterval: time.Millisecond, BackoffCoefficient: 1, MaximumInterval: time.Millisecond, MaximumAttempts: 3}
	t.Cleanup(func() { stepRetry = old })
}

// at runs f at a moment of workflow time.
func (h *harness) at(d time.Duration, f func()) { h.env.RegisterDelayedCallback(f, d) }

func (h *harness) state() Snapshot {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryState)
	if err != nil {
		h.t.Fatal(err)
	}
	var s Snapshot
	if err := v.Get(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (r *readModel) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *readModel) stuckMarks() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.marks...)
}

// refuseLong answers like PostgreSQL behind the task service: a close
// reason or resolution longer than its column is refused for good.
func refuseLong(t *taskv1.Transition) error {
	if len(t.GetCloseReason()) > 500 || len(t.GetResolution()) > 100 || strings.ContainsRune(t.GetText(), 0) {
		return status.Error(codes.InvalidArgument, "the value does not fit its column")
	}
	return nil
}

func TestAStepTheDatabaseRefusesFailsItsCommandAndLeavesTheTaskAsItWas(t *testing.T) {
	h := newHarness(t)
	h.model.refuse = refuseLong
	// The advance would enter Field repair (a new group); its resolution
	// does not fit.
	long := h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21, Resolution: strings.Repeat("r", 150)})
	var after Snapshot
	h.at(2*time.Minute, func() { after = h.state() })
	nul := h.send(3*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "bad\x00reason"})
	comment := h.send(4*time.Minute, UpdateComment, Comment{Actor: member, Text: "still here"})
	advance := h.send(5*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(6*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "end the test"})
	h.run(h.input(route()))

	for name, o := range map[string]*outcome{"over-long resolution": long, "NUL in the cancel reason": nul} {
		if !o.refusedAs(ErrRefused) || !strings.Contains(o.failed.Error(), "does not fit its column") {
			t.Errorf("%s: %+v, want the read model's refusal", name, o)
		}
	}
	if after.Stuck || !after.Open || after.ProcessID != 21 || after.Sequence != 1 {
		t.Fatalf("after the refused step the task is %+v, want it as it was", after)
	}
	if !comment.done || comment.failed != nil || !advance.done || advance.failed != nil {
		t.Fatalf("the task took no more commands: comment %+v, advance %+v", comment, advance)
	}
	want := []taskv1.TaskEventKind{taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED}
	if got := h.model.kinds(); !equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	if s := h.model.steps[0]; s.GetSequence() != 2 {
		t.Fatalf("the comment took sequence %d, want 2: a refused step uses none", s.GetSequence())
	}
	// the refused advance's group was not kept: only the groups the task
	// was really in hear of its close
	if g := h.model.last().GetNotifyGroupIds(); !equal(g, []int64{support, installers}) {
		t.Fatalf("close told %v", g)
	}
	if len(h.model.stuckMarks()) != 0 {
		t.Fatal("a refused step marked the task stuck")
	}
}

func TestATimerStepThatCannotBeWrittenMarksTheTaskStuckUntilARetryWritesItOnce(t *testing.T) {
	quickRetries(t)
	h := newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	// Field repair's SLA runs out at 4 h; the read model is down from 3 h.
	h.at(3*time.Hour, func() { h.model.setDown(true) })
	var stuck Snapshot
	h.at(5*time.Hour, func() { stuck = h.state() })
	refused := h.send(5*time.Hour+time.Second, UpdateComment, Comment{Actor: member, Text: "anyone?"})
	h.at(6*time.Hour, func() { h.model.setDown(false) })
	h.at(6*time.Hour+time.Second, func() { h.env.SignalWorkflow(SignalRetry, nil) })
	var healed Snapshot
	h.at(6*time.Hour+time.Minute/2, func() { healed = h.state() })
	later := h.send(7*time.Hour, UpdateComment, Comment{Actor: member, Text: "back"})
	h.send(8*time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "end the test"})
	h.run(h.input(route()))

	if !stuck.Stuck || stuck.StuckError == "" || stuck.StuckSince.IsZero() || stuck.Breached {
		t.Fatalf("past the SLA with the read model down the task is %+v, want stuck and not yet breached", stuck)
	}
	if refused.rejected == nil || !refused.refusedAs(ErrStuck) || !strings.Contains(refused.rejected.Error(), "T-000007 is stuck") {
		t.Fatalf("a comment on a stuck task: %+v, want refused at once", refused)
	}
	if healed.Stuck || !healed.Breached {
		t.Fatalf("after the retry the task is %+v, want breached and no longer stuck", healed)
	}
	if !later.done || later.failed != nil {
		t.Fatalf("a comment after the retry: %+v", later)
	}
	breaches := 0
	for _, k := range h.model.kinds() {
		if k == taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED {
			breaches++
		}
	}
	if breaches != 1 {
		t.Fatalf("%d breach steps written, want 1", breaches)
	}
	if marks := h.model.stuckMarks(); !equal(marks, []bool{true, false}) {
		t.Fatalf("read model marks %v, want stuck then cleared", marks)
	}
}

func TestACommandWhoseStepCannotBeWrittenIsAnsweredAndNotReplayed(t *testing.T) {
	quickRetries(t)
	h := newHarness(t)
	h.at(30*time.Second, func() { h.model.setDown(true) })
	failed := h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21, Comment: "done"})
	notStuck := h.send(30*time.Second, UpdateRetry, Retry{Actor: manager})
	// healed before the backoff's first retry at 2 min: the retry update
	// is what writes
	h.at(90*time.Second, func() { h.model.setDown(false) })
	retried := h.send(105*time.Second, UpdateRetry, Retry{Actor: manager})
	again := h.send(4*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21, Comment: "done"})
	h.send(5*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "end the test"})
	h.run(h.input(route()))

	if !failed.refusedAs(ErrStuck) || failed.rejected != nil {
		t.Fatalf("the advance whose step could not be written: %+v, want it accepted, then failed as stuck", failed)
	}
	if !notStuck.refusedAs(ErrNotStuck) {
		t.Fatalf("a retry of a task that is not stuck: %+v", notStuck)
	}
	if !retried.done || retried.failed != nil {
		t.Fatalf("retry: %+v", retried)
	}
	if !again.done || again.failed != nil {
		t.Fatalf("the advance sent again: %+v", again)
	}
	want := []taskv1.TaskEventKind{taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED}
	if got := h.model.kinds(); !equal(got, want) {
		t.Fatalf("steps %v, want the advance once (sent again by its caller) and the cancel", got)
	}
	if s := h.model.steps[0]; s.GetSequence() != 2 || s.GetProcessId() != 22 {
		t.Fatalf("the advance %v, want sequence 2 into Field repair", s)
	}
}

// flakyEffects refuses a contract effect a number of times first.
type flakyEffects struct {
	effects
	failures int
}

func (e *flakyEffects) Apply(ctx context.Context, id int64, effect taskv1.ContractEffect) error {
	e.mu.Lock()
	if e.failures > 0 {
		e.failures--
		e.mu.Unlock()
		return status.Error(codes.FailedPrecondition, "contract C-000003 is being changed")
	}
	e.mu.Unlock()
	return e.effects.Apply(ctx, id, effect)
}

func TestAContractEffectThatFailsMarksTheClosedTaskStuckAndIsAppliedOnItsRetry(t *testing.T) {
	quickRetries(t)
	fx := &flakyEffects{failures: 2}
	h := newHarnessWith(t, fx)
	for i, p := range []int64{21, 22, 23} {
		h.send(time.Duration(i+1)*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: p})
	}
	var stuck Snapshot
	h.at(3*time.Minute+time.Second, func() { stuck = h.state() })
	r := route()
	r.Effect = taskv1.ContractEffect_CONTRACT_EFFECT_SUSPEND
	res := h.run(h.input(r))

	if !stuck.Stuck || stuck.Open || !strings.Contains(stuck.StuckError, "being changed") {
		t.Fatalf("after the effect failed the task is %+v, want closed and stuck", stuck)
	}
	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED || !equal(fx.applied, []taskv1.ContractEffect{taskv1.ContractEffect_CONTRACT_EFFECT_SUSPEND}) {
		t.Fatalf("result %+v, effects %v: want the effect applied once on a retry", res, fx.applied)
	}
	if marks := h.model.stuckMarks(); !equal(marks, []bool{true, false}) {
		t.Fatalf("read model marks %v", marks)
	}
}

func TestRetryDelayDoublesFromAMinuteToAQuarterHour(t *testing.T) {
	var got []time.Duration
	for i := range 6 {
		got = append(got, retryDelay(i))
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	if !equal(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
}

func TestStuckReasonIsMadeToFitItsRequest(t *testing.T) {
	got := fitReason("Unavailable: connection refused\x00\n" + strings.Repeat("ё", 600) + "\xff")
	if n := utf8.RuneCountInString(got); n > maxStuckReason {
		t.Errorf("the reason has %d characters, over %d", n, maxStuckReason)
	}
	if !strings.HasPrefix(got, "Unavailable: connection refused") || strings.ContainsFunc(got, unicode.IsControl) || !utf8.ValidString(got) {
		t.Errorf("the reason reads %q", got)
	}
}
