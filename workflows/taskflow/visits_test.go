package taskflow

import (
	"strings"
	"testing"
	"time"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// visitRoute is the repair route with its field repair requiring a visit.
func visitRoute() Route {
	r := route()
	r.Processes[1].Visit = true
	return r
}

var technician = Actor{UserID: 20, Name: "ivan", Groups: []int64{installers}}

// booking is a window from..to hours after the workflow starts, with
// the evening and the hour-before reminders.
func booking(start time.Time, from, to time.Duration, techs ...int64) Book {
	s, e := start.Add(from), start.Add(to)
	return Book{
		Actor: member, ProcessID: 22, Start: s, End: e, Technicians: techs, Address: "Lenina 1",
		RemindAt: []time.Time{s.Add(-16 * time.Hour), s.Add(-time.Hour)}, CustomerPhone: "+79160000001", TariffName: "Home 100",
	}
}

func (h *harness) stepsOf(kind taskv1.TaskEventKind) []*taskv1.Transition {
	h.model.mu.Lock()
	defer h.model.mu.Unlock()
	var out []*taskv1.Transition
	for _, s := range h.model.steps {
		if s.GetKind() == kind {
			out = append(out, s)
		}
	}
	return out
}

func TestBookedVisitRemindsTheTechniciansFlagsLatenessAndRunsTheSLAToItsWindow(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now()
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	// Field repair's own SLA is 4 h from entry; booked for 24–26 h, the
	// SLA runs to 26 h instead. Nobody reports until 27 h.
	booked := h.send(2*time.Minute, UpdateBookVisit, booking(start, 24*time.Hour, 26*time.Hour, technician.UserID, 21))
	onWay := h.send(27*time.Hour, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY})
	arrived := h.send(27*time.Hour+30*time.Minute, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_ARRIVED})
	done := h.send(28*time.Hour, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_DONE, Comment: "cable replaced"})
	h.send(29*time.Hour, UpdateAdvance, Advance{Actor: member, ProcessID: 23})
	res := h.run(h.input(visitRoute()))

	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED || booked.failed != nil || onWay.failed != nil || arrived.failed != nil || done.failed != nil {
		t.Fatalf("result %+v; booked %+v, on the way %+v, arrived %+v, done %+v", res, booked, onWay, arrived, done)
	}
	b := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED)
	if len(b) != 1 || b[0].GetVisit().GetState() != taskv1.VisitState_VISIT_STATE_BOOKED || !b[0].GetSlaDueAt().AsTime().Equal(start.Add(26*time.Hour)) ||
		!equal(b[0].GetNotifyUserIds(), []int64{20, 21}) || b[0].GetVisit().GetTariffName() != "Home 100" {
		t.Fatalf("booking steps %v", b)
	}
	reminders := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_REMINDED)
	if len(reminders) != 2 {
		t.Fatalf("%d reminders, want the evening's and the hour-before's", len(reminders))
	}
	for i, want := range []time.Duration{8 * time.Hour, 23 * time.Hour} {
		if got := reminders[i].GetTime().AsTime().Sub(start); got != want || !equal(reminders[i].GetNotifyUserIds(), []int64{20, 21}) {
			t.Fatalf("reminder %d at %v to %v, want at %v to both technicians", i, got, reminders[i].GetNotifyUserIds(), want)
		}
	}
	late := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_LATE)
	if len(late) != 1 || late[0].GetTime().AsTime().Sub(start) != 26*time.Hour || !late[0].GetNotifySupervisors() ||
		!equal(late[0].GetNotifyGroupIds(), []int64{installers}) || !late[0].GetVisit().GetLate() {
		t.Fatalf("late steps %v", late)
	}
	breaches := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED)
	if len(breaches) != 1 || breaches[0].GetTime().AsTime().Sub(start) != 26*time.Hour {
		t.Fatalf("breaches %v, want one at the window's end and none 4 h after entry", breaches)
	}
	adv := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED)
	if len(adv) < 2 || adv[1].GetVisit().GetState() != taskv1.VisitState_VISIT_STATE_DONE || adv[1].GetText() != "cable replaced" || adv[1].GetActorId() != technician.UserID {
		t.Fatalf("completing the visit: %v", adv)
	}
}

func TestACancelledOrFailedVisitWaitsForANewBookingAndItsSLACountsFromEntryAgain(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now()
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(2*time.Minute, UpdateBookVisit, booking(start, 24*time.Hour, 26*time.Hour, technician.UserID))
	h.send(time.Hour, UpdateCancelVisit, CancelVisit{Actor: member, Reason: "customer away"})
	// after the cancel the 4 h SLA from entry applies again: breached at ~4 h
	h.send(5*time.Hour, UpdateBookVisit, booking(start, 30*time.Hour, 32*time.Hour, technician.UserID))
	why := strings.Repeat("no access to the basement. ", 40)
	failed := h.send(31*time.Hour, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_CANT_DO, Comment: why})
	h.send(40*time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "stop"})
	h.run(h.input(visitRoute()))

	if failed.failed != nil || failed.rejected != nil {
		t.Fatalf("can't do: %+v", failed)
	}
	c := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_CANCELLED)
	if len(c) != 1 || c[0].GetVisit().GetState() != taskv1.VisitState_VISIT_STATE_CANCELLED || c[0].GetVisit().GetReason() != "customer away" || !equal(c[0].GetNotifyUserIds(), []int64{20}) {
		t.Fatalf("cancel steps %v", c)
	}
	if b := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED); len(b) != 1 || b[0].GetTime().AsTime().Sub(start) != 4*time.Hour+time.Minute {
		t.Fatalf("breaches %v, want one 4 h after entry while unbooked", b)
	}
	f := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_FAILED)
	if len(f) != 1 || f[0].GetVisit().GetState() != taskv1.VisitState_VISIT_STATE_FAILED || len([]rune(f[0].GetVisit().GetReason())) > 500 ||
		f[0].GetText() != strings.TrimSpace(why) || !f[0].GetComment() || f[0].GetProcessId() != 22 {
		t.Fatalf("can't-do steps %v", f)
	}
	// the late flag of a booking that ended never fires
	if l := h.stepsOf(taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_LATE); len(l) != 0 {
		t.Fatalf("late steps after the bookings ended: %v", l)
	}
}

func TestVisitCommandsThatDoNotFitAreRefused(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now()
	notVisit := h.send(time.Minute, UpdateBookVisit, Book{Actor: member, ProcessID: 21, Start: start.Add(time.Hour), End: start.Add(2 * time.Hour), Technicians: []int64{20}})
	h.send(2*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	noBooking := h.send(3*time.Minute, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_ARRIVED})
	stranger := h.send(4*time.Minute, UpdateBookVisit, Book{Actor: outside, ProcessID: 22, Start: start.Add(time.Hour), End: start.Add(2 * time.Hour), Technicians: []int64{20}})
	h.send(5*time.Minute, UpdateBookVisit, booking(start, 24*time.Hour, 26*time.Hour, technician.UserID))
	notBooked := h.send(6*time.Minute, UpdateReportVisit, ReportVisit{Actor: Actor{UserID: 21, Groups: []int64{installers}}, Report: taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY})
	noReason := h.send(7*time.Minute, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_CANT_DO})
	h.send(8*time.Minute, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_ARRIVED})
	moveOnSite := h.send(9*time.Minute, UpdateBookVisit, booking(start, 30*time.Hour, 31*time.Hour, technician.UserID))
	twice := h.send(10*time.Minute, UpdateReportVisit, ReportVisit{Actor: technician, Report: taskv1.VisitReport_VISIT_REPORT_ARRIVED})
	h.send(11*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "stop"})
	h.run(h.input(visitRoute()))

	for name, c := range map[string]struct {
		o    *outcome
		kind string
	}{
		"booking a process that needs no visit": {notVisit, ErrVisit},
		"reporting without a booking":           {noBooking, ErrVisit},
		"booking by a user outside the group":   {stranger, ErrNotMember},
		"reporting by a technician not booked":  {notBooked, ErrNotMember},
		"can't do without a reason":             {noReason, ErrInvalid},
		"moving a visit already on site":        {moveOnSite, ErrVisit},
		"arriving twice":                        {twice, ErrVisit},
	} {
		if !c.o.refusedAs(c.kind) {
			t.Errorf("%s: %+v, want refused as %s", name, c.o, c.kind)
		}
	}
	// the cancel ends the booking as cancelled
	closed := h.model.last()
	if closed.GetState() != taskv1.TaskState_TASK_STATE_CANCELLED || closed.GetVisit().GetState() != taskv1.VisitState_VISIT_STATE_CANCELLED {
		t.Fatalf("the cancel's step %v", closed)
	}
}
