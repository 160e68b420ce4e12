package taskflow

import (
	"testing"
	"time"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// An urgent task on a route that gives urgent tasks half the SLA: made
// urgent in Field repair (4 h) and completed after 3 h there, it has
// breached at 2 h; the priority is on every step and on the timeline.
func TestAnUrgentTaskHasTheRoutesShareOfTheSLAAndOnlySupervisorsSetIt(t *testing.T) {
	h := newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	byMember := h.send(2*time.Minute, UpdatePriority, SetPriority{Actor: member, Priority: taskv1.TaskPriority_TASK_PRIORITY_URGENT})
	unknown := h.send(3*time.Minute, UpdatePriority, SetPriority{Actor: manager, Priority: taskv1.TaskPriority(9)})
	set := h.send(4*time.Minute, UpdatePriority, SetPriority{Actor: manager, Priority: taskv1.TaskPriority_TASK_PRIORITY_URGENT})
	again := h.send(5*time.Minute, UpdatePriority, SetPriority{Actor: manager, Priority: taskv1.TaskPriority_TASK_PRIORITY_URGENT})
	h.send(3*time.Hour, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	h.send(3*time.Hour+time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 23})
	r := route()
	r.UrgentSLAPercent = 50
	h.run(h.input(r))

	if !byMember.refusedAs(ErrNotMember) || !unknown.refusedAs(ErrInvalid) || !again.refusedAs(ErrInvalid) {
		t.Fatalf("refusals: a member's %+v, an unknown priority %+v, the same again %+v", byMember, unknown, again)
	}
	if !set.done || set.failed != nil {
		t.Fatalf("the supervisor's change: %+v", set)
	}
	var changed, breached *taskv1.Transition
	for _, s := range h.model.steps {
		switch s.GetKind() {
		case taskv1.TaskEventKind_TASK_EVENT_KIND_PRIORITY_CHANGED:
			changed = s
		case taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED:
			breached = s
		}
	}
	if changed == nil || changed.GetText() != "urgent" || changed.GetActorId() != manager.UserID || changed.GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_URGENT {
		t.Fatalf("the change on the timeline: %v", changed)
	}
	// Field repair was entered at 1 min: half of 4 h is due at 2 h 1 min.
	if due := changed.GetSlaDueAt().AsTime().Sub(h.model.steps[0].GetTime().AsTime()); due != 2*time.Hour {
		t.Fatalf("the SLA after the change runs %v from entering the process, want 2h", due)
	}
	if breached == nil || breached.GetProcessId() != 22 {
		t.Fatalf("no breach in Field repair at half its SLA: %v", breached)
	}
	if at := breached.GetTime().AsTime().Sub(h.model.steps[0].GetTime().AsTime()); at != 2*time.Hour {
		t.Fatalf("breached %v after entering Field repair, want 2h", at)
	}
	for _, s := range h.model.steps {
		if s.GetSequence() > changed.GetSequence() && s.GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_URGENT {
			t.Fatalf("a later step forgets the priority: %v", s)
		}
	}
}

// A task opened as high keeps the full SLA on a route with no share set,
// and every step says it is high.
func TestAPriorityChosenAtCreationIsKeptAndAShareOfZeroKeepsTheSLA(t *testing.T) {
	h := newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(3*time.Hour, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	h.send(3*time.Hour+time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 23})
	in := h.input(route())
	in.State = State{Sequence: 1, Priority: taskv1.TaskPriority_TASK_PRIORITY_HIGH, Groups: []int64{support}}
	h.run(in)
	for _, s := range h.model.steps {
		if s.GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_HIGH {
			t.Fatalf("step %v", s)
		}
		if s.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED {
			t.Fatalf("breached within its 4 h: %v", s)
		}
	}
}
