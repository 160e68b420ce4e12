package taskflow

import (
	"testing"
	"time"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/calendar"
)

var msk, _ = time.LoadLocation("Europe/Moscow")

const (
	slaBreached = taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED
	slaWarning  = taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_WARNING
	escalated   = taskv1.TaskEventKind_TASK_EVENT_KIND_ESCALATED
	cancelled   = taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED
	assigned    = taskv1.TaskEventKind_TASK_EVENT_KIND_ASSIGNED
	returned    = taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED
)

// stepsOf are the steps of one kind the workflow wrote.
func (r *readModel) stepsOf(kind taskv1.TaskEventKind) []*taskv1.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*taskv1.Transition
	for _, s := range r.steps {
		if s.GetKind() == kind {
			out = append(out, s)
		}
	}
	return out
}

func TestAnSLACountsWorkingTimeOverAHolidayAndAWeekend(t *testing.T) {
	h := newHarness(t)
	// Thursday 11 June 2026, a shortened day (to 17:00) before the Friday
	// holiday and the weekend
	h.env.SetStartTime(time.Date(2026, 6, 11, 15, 59, 0, 0, msk))
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(7*24*time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "done"})
	r := route()
	r.Calendars = map[int64]calendar.Calendar{installers: calendar.Russian("Europe/Moscow", 2026)}
	h.run(h.input(r))

	// 1 h on Thursday, 3 h on Monday 15 June from 09:00
	want := time.Date(2026, 6, 15, 12, 0, 0, 0, msk)
	entered := h.model.steps[0]
	if due := entered.GetSlaDueAt().AsTime(); !due.Equal(want) {
		t.Fatalf("the SLA runs out %v, want %v", due.In(msk), want)
	}
	breaches := h.model.stepsOf(slaBreached)
	if len(breaches) != 1 || !breaches[0].GetTime().AsTime().Equal(want) {
		t.Fatalf("breaches %v, want one at %v", breaches, want)
	}
}

func TestAProcessWarnsAtItsShareAndEscalatesAfterItsBreachEachOnce(t *testing.T) {
	h := newHarness(t)
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, msk)
	h.env.SetStartTime(start)
	r := route()
	r.Processes[1].WarnPercent, r.Processes[1].EscalateAfterSeconds = 80, hour
	r.Processes[1].EscalateRaise, r.Processes[1].EscalateToQueue = true, true
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(2*time.Minute, UpdateAssign, Assign{Actor: member, ProcessID: 22, UserID: member.UserID})
	h.send(12*time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "no longer needed"})
	h.run(h.input(r))

	entered := start.Add(time.Minute)
	if got, want := h.model.kinds(), kindsOf(advanced, assigned, slaWarning, slaBreached, escalated, cancelled); !equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	warn, breach, esc := h.model.stepsOf(slaWarning)[0], h.model.stepsOf(slaBreached)[0], h.model.stepsOf(escalated)[0]
	if at := warn.GetTime().AsTime().Sub(entered); at != 192*time.Minute || warn.GetText() != "80" || !equal(warn.GetNotifyUserIds(), []int64{member.UserID}) {
		t.Fatalf("the warning %v after %v", warn, at)
	}
	if at := breach.GetTime().AsTime().Sub(entered); at != 4*time.Hour {
		t.Fatalf("breached after %v", at)
	}
	if at := esc.GetTime().AsTime().Sub(entered); at != 5*time.Hour || esc.GetText() != "priority,queue" || !esc.GetNotifySupervisors() ||
		esc.GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_HIGH || esc.GetAssigneeId() != 0 {
		t.Fatalf("the escalation %v after %v", esc, at)
	}
}

func TestWaitingForTheCustomerPausesTheSLAAndTheProcessGoesOnFromWhereItWas(t *testing.T) {
	h := newHarness(t)
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, msk)
	h.env.SetStartTime(start)
	r := route()
	r.Processes[0].SLASeconds = 4 * hour
	r.Processes = append(r.Processes[:1], append([]Process{{ID: 25, Name: "Waiting for the customer", GroupID: support, WaitsForCustomer: true, SLASeconds: hour}}, r.Processes[1:]...)...)
	h.send(time.Hour, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(11*time.Hour, UpdateReturn, Return{Actor: member, ProcessID: 25, ToProcessID: 21, Comment: "the customer answered"})
	h.send(20*time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "done"})
	h.run(h.input(r))

	if got, want := h.model.kinds(), kindsOf(advanced, returned, slaBreached, cancelled); !equal(got, want) {
		t.Fatalf("steps %v, want %v (no breach while waiting)", got, want)
	}
	back := h.model.stepsOf(returned)[0]
	// 1 h used before waiting: 3 h left from the return
	if due := back.GetSlaDueAt().AsTime().Sub(start); due != 14*time.Hour {
		t.Fatalf("back in Diagnostics, the SLA runs out %v after the start, want 14 h", due)
	}
	if waiting := h.model.stepsOf(advanced)[0]; waiting.GetSlaDueAt() != nil {
		t.Fatalf("waiting for the customer has an SLA: %v", waiting.GetSlaDueAt().AsTime())
	}
	if at := h.model.stepsOf(slaBreached)[0].GetTime().AsTime().Sub(start); at != 14*time.Hour {
		t.Fatalf("breached %v after the start", at)
	}
}
