package taskflow

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// ended is a task of route() that closed after four steps in its last
// process, as the task service hands it to the run that reopens it.
func (h *harness) ended(r Route, processID int64, reason string) Input {
	in := h.input(r)
	in.State = State{Position: 2, Sequence: 4, Groups: []int64{support, installers}, Outcome: taskv1.TaskState_TASK_STATE_CLOSED, Reason: "ROUTE_COMPLETED", Priority: taskv1.TaskPriority_TASK_PRIORITY_HIGH}
	in.Reopen = &Reopen{Actor: member, ProcessID: processID, Reason: reason, After: 4}
	return in
}

func TestAClosedTaskReopensWhereItEndedAndGoesOnWithItsTimeline(t *testing.T) {
	h := newHarness(t)
	opened := h.send(0, UpdateReopen, nil)
	done := h.send(time.Hour, UpdateAdvance, Advance{Actor: member, ProcessID: 23, Comment: "fixed for good"})
	res := h.run(h.ended(route(), 23, "the customer called: no signal again"))

	if !opened.done || opened.failed != nil || !done.done || done.failed != nil {
		t.Fatalf("reopen %+v, advance %+v", opened, done)
	}
	if got, want := h.model.kinds(), kindsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED, closedKind); !equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	r := h.model.steps[0]
	if r.GetSequence() != 5 || r.GetState() != taskv1.TaskState_TASK_STATE_OPEN || r.GetProcessId() != 23 || r.GetFromProcessId() != 0 ||
		r.GetText() != "the customer called: no signal again" || !r.GetComment() || r.GetActorId() != member.UserID ||
		r.GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_HIGH || !equal(r.GetNotifyGroupIds(), []int64{support, installers}) {
		t.Fatalf("reopening step %v", r)
	}
	if c := h.model.last(); c.GetSequence() != 6 || c.GetState() != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("closing step %v", c)
	}
	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("result %+v", res)
	}
}

func TestATaskReopenedInAProcessWithAnSLAHasItsClockAgain(t *testing.T) {
	h := newHarness(t)
	h.send(0, UpdateReopen, nil)
	h.send(5*time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "duplicate"})
	h.run(h.ended(route(), 22, "the installer must come back"))

	if got, want := h.model.kinds(), kindsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED, taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED); !equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	r, breach := h.model.steps[0], h.model.steps[1]
	// high priority on a route without shares: the whole 4 h
	if due := r.GetSlaDueAt().AsTime().Sub(r.GetTime().AsTime()); due != 4*time.Hour || r.GetSlaBreached() {
		t.Fatalf("reopened with an SLA of %v, breached %v", due, r.GetSlaBreached())
	}
	if at := breach.GetTime().AsTime().Sub(r.GetTime().AsTime()); at != 4*time.Hour {
		t.Fatalf("breached %v after reopening", at)
	}
}

func TestAReopeningThatCannotBeWrittenLeavesTheTaskClosed(t *testing.T) {
	for name, tc := range map[string]struct {
		process int64
		down    bool
		want    string
	}{
		"a process not on the route": {process: 99, want: ErrInvalid},
		"the read model down":        {process: 23, down: true, want: ErrNotWritten},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.model.down = tc.down
			opened := h.send(0, UpdateReopen, nil)
			h.env.ExecuteWorkflow(TaskWorkflow, h.ended(route(), tc.process, "again"))
			var app *temporal.ApplicationError
			if !h.env.IsWorkflowCompleted() || !errors.As(h.env.GetWorkflowError(), &app) || app.Type() != ErrNotWritten || !app.NonRetryable() {
				t.Fatalf("the run ended with %v", h.env.GetWorkflowError())
			}
			if !opened.refusedAs(tc.want) {
				t.Fatalf("the reopen was answered %+v, want %s", opened, tc.want)
			}
			if n := len(h.model.steps); n != 0 {
				t.Fatalf("%d steps written", n)
			}
		})
	}
}
