package taskflow

import (
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// SLAs count working time in the calendar of the process's group (round
// the clock for a group without one), on the workflow's durable timers. A
// process may escalate: a warning at a share of its SLA, and some time
// after a breach the supervisors told and the task raised in priority
// and/or returned to the queue — each level once per stay in the process.
// A process that waits for the customer runs no SLA; the process the task
// came from keeps what its SLA had used, and goes on from there when the
// task comes back to it.

// after is the moment d of working time has passed since from in the
// calendar of group (wall-clock time when it has none).
func (w *taskWorkflow) after(group int64, from time.Time, d time.Duration) time.Time {
	if c, ok := w.in.Route.Calendars[group]; ok {
		return c.Add(from, d)
	}
	return from.Add(d)
}

// worked is the working time between from and to in group's calendar.
func (w *taskWorkflow) worked(group int64, from, to time.Time) time.Duration {
	if c, ok := w.in.Route.Calendars[group]; ok {
		return c.Between(from, to)
	}
	if to.After(from) {
		return to.Sub(from)
	}
	return 0
}

// slaBudget is a state's process's SLA for the task's priority (zero: none).
func (w *taskWorkflow) slaBudget(st *State) time.Duration {
	p := w.at(st)
	if p.SLASeconds <= 0 || p.WaitsForCustomer {
		return 0
	}
	return time.Duration(p.SLASeconds*w.in.Route.SLAShare(st.Priority)/100) * time.Second
}

// warnDue is when the current process warns (zero: no warning pending).
func (w *taskWorkflow) warnDue() time.Time {
	p := w.current()
	budget := w.slaBudget(&w.st)
	if w.st.Warned || w.st.Breached || p.WarnPercent <= 0 || budget <= 0 || w.st.Visit != nil {
		return time.Time{}
	}
	return w.after(p.GroupID, w.st.EnteredAt, budget*time.Duration(p.WarnPercent)/100-w.st.SLASpent)
}

// escalateDue is when the current process escalates (zero: not pending).
func (w *taskWorkflow) escalateDue() time.Time {
	p := w.current()
	if !w.st.Breached || w.st.Escalated || p.EscalateAfterSeconds <= 0 {
		return time.Time{}
	}
	breach := w.slaDueAt(&w.st)
	if breach.IsZero() {
		return time.Time{}
	}
	return w.after(p.GroupID, breach, time.Duration(p.EscalateAfterSeconds)*time.Second)
}

// fireEscalation writes the warning and the escalation that are due.
func (w *taskWorkflow) fireEscalation(ctx workflow.Context, now time.Time) error {
	if due := w.warnDue(); !due.IsZero() && !now.Before(due) {
		p := w.current()
		next := w.st.clone()
		next.Warned = true
		t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_WARNING)
		t.Text = strconv.Itoa(int(p.WarnPercent))
		if next.AssigneeID != 0 {
			t.NotifyUserIds = []int64{next.AssigneeID}
		} else {
			t.NotifyGroupIds = []int64{p.GroupID}
		}
		if _, err := w.write(ctx, next, t); err != nil {
			return err
		}
	}
	if due := w.escalateDue(); !due.IsZero() && !now.Before(due) {
		p := w.current()
		next := w.st.clone()
		next.Escalated = true
		var how []string
		if p.EscalateRaise && next.Priority < taskv1.TaskPriority_TASK_PRIORITY_URGENT {
			next.Priority = max(next.Priority, taskv1.TaskPriority_TASK_PRIORITY_NORMAL) + 1
			how = append(how, "priority")
		}
		if p.EscalateToQueue && next.AssigneeID != 0 {
			next.AssigneeID = 0
			how = append(how, "queue")
		}
		t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_ESCALATED)
		t.Text = strings.Join(how, ",")
		t.NotifyGroupIds, t.NotifySupervisors = []int64{p.GroupID}, true
		if _, err := w.write(ctx, next, t); err != nil {
			return err
		}
	}
	return nil
}

// pauseOrResume carries the SLA of the process a state leaves into the
// one it enters at pos: entering a process that waits for the customer
// keeps the left process's use of its SLA; coming back to that process
// takes it up again; any other move starts the entered process afresh.
func (w *taskWorkflow) pauseOrResume(ctx workflow.Context, st *State, pos int) {
	from, to := w.at(st), w.in.Route.Processes[pos]
	now := workflow.Now(ctx)
	switch {
	case to.WaitsForCustomer && !from.WaitsForCustomer && w.slaBudget(st) > 0:
		st.Paused = &Pause{
			ProcessID: from.ID, Spent: st.SLASpent + w.worked(from.GroupID, st.EnteredAt, now),
			Warned: st.Warned, Breached: st.Breached, Escalated: st.Escalated,
		}
		st.SLASpent = 0
	case to.WaitsForCustomer:
		// waiting on: the pause stays as it was
	case st.Paused != nil && st.Paused.ProcessID == to.ID:
		st.SLASpent = st.Paused.Spent
		st.Paused = nil
	default:
		st.SLASpent, st.Paused = 0, nil
	}
}

// resumed restores the escalation levels a process had reached before its
// pause (enter clears them first).
func (w *taskWorkflow) resumed(st *State, p *Pause) {
	if p != nil && w.at(st).ID == p.ProcessID {
		st.Warned, st.Breached, st.Escalated = p.Warned, p.Breached, p.Escalated
	}
}
