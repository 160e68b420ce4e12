package taskflow

import (
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// A process that requires a visit waits for dispatch to book one. The
// booking lives in the task's state; every change to it is a step whose
// transition carries the booking, so the read model writes the visit and
// the timeline event in one transaction (and its constraint refuses a
// technician booked twice). While booked, durable timers remind the
// technicians, flag a visit nobody arrived at by the end of its window,
// and the process's SLA runs to that end.

// Booking is a task's visit while it is active.
type Booking struct {
	Start, End  time.Time
	Technicians []int64
	Address     string
	Note        string
	State       taskv1.VisitState
	Late        bool `json:",omitempty"`
	// RemindAt are the reminders' times, earliest first; Reminded counts
	// those sent.
	RemindAt []time.Time `json:",omitempty"`
	Reminded int         `json:",omitempty"`
	BookedBy int64       `json:",omitempty"`
	// As the booking found them, for the technician's day.
	CustomerPhone string `json:",omitempty"`
	TariffName    string `json:",omitempty"`
}

func (b *Booking) clone() *Booking {
	if b == nil {
		return nil
	}
	c := *b
	c.Technicians = slices.Clone(b.Technicians)
	c.RemindAt = slices.Clone(b.RemindAt)
	return &c
}

// write is the booking as a step writes it.
func (b *Booking) write(state taskv1.VisitState, reason string) *taskv1.VisitWrite {
	return &taskv1.VisitWrite{
		State: state, StartTime: timestamppb.New(b.Start), EndTime: timestamppb.New(b.End),
		TechnicianIds: slices.Clone(b.Technicians), Address: b.Address, Note: b.Note, Late: b.Late,
		Reason: fitReason(reason), BookedBy: b.BookedBy, CustomerPhone: b.CustomerPhone, TariffName: b.TariffName,
	}
}

// Book books (or rebooks) the visit of the process the task is in. The
// task service has checked the window against the technicians' working
// time and their group, and computed the reminders.
type Book struct {
	Actor       Actor
	ProcessID   int64
	Start, End  time.Time
	Technicians []int64
	Address     string
	Note        string
	RemindAt    []time.Time
	// As the contract and customer stood when booked.
	CustomerPhone string
	TariffName    string
}

// CancelVisit cancels the booking; the task waits to be booked again.
type CancelVisit struct {
	Actor  Actor
	Reason string
}

// ReportVisit is a booked technician's report from the field.
type ReportVisit struct {
	Actor   Actor
	Report  taskv1.VisitReport
	Comment string
}

// Visit update names.
const (
	UpdateBookVisit   = "book-visit"
	UpdateCancelVisit = "cancel-visit"
	UpdateReportVisit = "report-visit"
)

// ErrVisit: a visit command that does not fit the task's booking (a 400);
// ErrClash: a technician already booked in an overlapping window (a 409).
const (
	ErrVisit = "VisitRefused"
	ErrClash = "VisitClash"
)

func (w *taskWorkflow) visitProcess() bool { return w.open() && w.current().Visit }

func (w *taskWorkflow) validateBookVisit(c Book) error {
	if err := w.mayAct(c.Actor, c.ProcessID); err != nil {
		return err
	}
	if !w.visitProcess() {
		return refuse(ErrVisit, "%q does not wait for a visit", w.current().Name)
	}
	if b := w.st.Visit; b != nil && b.State == taskv1.VisitState_VISIT_STATE_ARRIVED {
		return refuse(ErrVisit, "the technician is already on site; the visit cannot be moved")
	}
	if !c.End.After(c.Start) || len(c.Technicians) == 0 {
		return refuse(ErrInvalid, "a booking needs a window that ends after it starts and at least one technician")
	}
	return nil
}

func (w *taskWorkflow) bookVisit(ctx workflow.Context, c Book) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateBookVisit(c); err != nil {
		return Step{}, err
	}
	before := w.st.Visit
	next := w.st.clone()
	next.LastActivity = workflow.Now(ctx)
	next.Visit = &Booking{
		Start: c.Start, End: c.End, Technicians: slices.Clone(c.Technicians), Address: c.Address, Note: strings.TrimSpace(c.Note),
		State: taskv1.VisitState_VISIT_STATE_BOOKED, RemindAt: slices.Clone(c.RemindAt), BookedBy: c.Actor.UserID,
		CustomerPhone: c.CustomerPhone, TariffName: c.TariffName,
	}
	next.Breached = false // the SLA now runs to the window's end
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED)
	t.ActorId, t.ActorName = c.Actor.UserID, c.Actor.Name
	t.Visit = next.Visit.write(taskv1.VisitState_VISIT_STATE_BOOKED, "")
	t.NotifyGroupIds = []int64{w.current().GroupID}
	t.NotifyUserIds = told(before, next.Visit)
	return w.applyStep(ctx, next, t)
}

// told lists the technicians a booking change concerns: those booked
// now, and those it was taken from.
func told(before, after *Booking) []int64 {
	var ids []int64
	for _, b := range []*Booking{after, before} {
		if b == nil {
			continue
		}
		for _, id := range b.Technicians {
			if !slices.Contains(ids, id) && len(ids) < 10 {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func (w *taskWorkflow) validateCancelVisit(c CancelVisit) error {
	if err := w.mayAct(c.Actor, 0); err != nil {
		return err
	}
	if w.st.Visit == nil {
		return refuse(ErrVisit, "task %s has no visit booked", w.in.Number)
	}
	if strings.TrimSpace(c.Reason) == "" {
		return refuse(ErrInvalid, "say why the visit is cancelled: a reason is required")
	}
	return nil
}

func (w *taskWorkflow) cancelVisit(ctx workflow.Context, c CancelVisit) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateCancelVisit(c); err != nil {
		return Step{}, err
	}
	return w.unbook(ctx, taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_CANCELLED, taskv1.VisitState_VISIT_STATE_CANCELLED, c.Actor, strings.TrimSpace(c.Reason))
}

// unbook ends the booking without leaving the process: the task waits to
// be booked again, and its SLA runs from entry as before.
func (w *taskWorkflow) unbook(ctx workflow.Context, kind taskv1.TaskEventKind, state taskv1.VisitState, by Actor, reason string) (Step, error) {
	before := w.st.Visit
	next := w.st.clone()
	next.LastActivity = workflow.Now(ctx)
	next.Visit = nil
	next.Breached = w.breachedFromEntry(ctx)
	t := w.step(ctx, &next, kind)
	t.ActorId, t.ActorName, t.Text = by.UserID, by.Name, reason
	t.Comment = kind == taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_FAILED
	t.Visit = before.write(state, reason)
	t.NotifyGroupIds = []int64{w.current().GroupID}
	t.NotifyUserIds = told(before, nil)
	return w.applyStep(ctx, next, t)
}

// breachedFromEntry tells whether the process's own SLA, counted from
// entry, has run out (an unbooked visit falls back to it).
func (w *taskWorkflow) breachedFromEntry(ctx workflow.Context) bool {
	p := w.current()
	return p.SLASeconds > 0 && !workflow.Now(ctx).Before(w.st.EnteredAt.Add(time.Duration(p.SLASeconds)*time.Second))
}

// validateReportVisit lets report only the booked technicians (and
// managers), in the order a visit goes.
func (w *taskWorkflow) validateReportVisit(c ReportVisit) error {
	if err := w.ready(); err != nil {
		return err
	}
	b := w.st.Visit
	if b == nil {
		return refuse(ErrVisit, "task %s has no visit booked", w.in.Number)
	}
	if !c.Actor.CanManage && !slices.Contains(b.Technicians, c.Actor.UserID) {
		return refuse(ErrNotMember, "only the technicians booked for the visit may report on it")
	}
	switch c.Report {
	case taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY:
		if b.State != taskv1.VisitState_VISIT_STATE_BOOKED {
			return refuse(ErrVisit, "the visit is already %s", visitStateName(b.State))
		}
	case taskv1.VisitReport_VISIT_REPORT_ARRIVED:
		if b.State == taskv1.VisitState_VISIT_STATE_ARRIVED {
			return refuse(ErrVisit, "the arrival is already recorded")
		}
	case taskv1.VisitReport_VISIT_REPORT_DONE:
	case taskv1.VisitReport_VISIT_REPORT_CANT_DO:
		if strings.TrimSpace(c.Comment) == "" {
			return refuse(ErrInvalid, "say why the visit cannot be done: a comment is required")
		}
	default:
		return refuse(ErrInvalid, "unknown report %v", c.Report)
	}
	return nil
}

func visitStateName(s taskv1.VisitState) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.String(), "VISIT_STATE_"), "_", " "))
}

func (w *taskWorkflow) reportVisit(ctx workflow.Context, c ReportVisit) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateReportVisit(c); err != nil {
		return Step{}, err
	}
	switch c.Report {
	case taskv1.VisitReport_VISIT_REPORT_DONE:
		// Completing the visit completes its process; the move ends the
		// booking as done (see step).
		return w.advanceLocked(ctx, Advance{Actor: c.Actor, ProcessID: w.current().ID, Comment: c.Comment})
	case taskv1.VisitReport_VISIT_REPORT_CANT_DO:
		return w.unbook(ctx, taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_FAILED, taskv1.VisitState_VISIT_STATE_FAILED, c.Actor, strings.TrimSpace(c.Comment))
	}
	kind, state := taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ON_THE_WAY, taskv1.VisitState_VISIT_STATE_ON_THE_WAY
	if c.Report == taskv1.VisitReport_VISIT_REPORT_ARRIVED {
		kind, state = taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ARRIVED, taskv1.VisitState_VISIT_STATE_ARRIVED
	}
	next := w.st.clone()
	next.LastActivity = workflow.Now(ctx)
	next.Visit = w.st.Visit.clone()
	next.Visit.State = state
	t := w.step(ctx, &next, kind)
	t.ActorId, t.ActorName = c.Actor.UserID, c.Actor.Name
	t.Text, t.Comment = strings.TrimSpace(c.Comment), strings.TrimSpace(c.Comment) != ""
	t.Visit = next.Visit.write(state, "")
	t.NotifyGroupIds = []int64{w.current().GroupID}
	return w.applyStep(ctx, next, t)
}

// endVisit ends the booking of a step that leaves the process (or closes
// the task): done when the process was completed, cancelled otherwise.
func (w *taskWorkflow) endVisit(next *State, t *taskv1.Transition) {
	b := w.st.Visit
	if b == nil || (next.Outcome == taskv1.TaskState_TASK_STATE_UNSPECIFIED && next.Position == w.st.Position) {
		return
	}
	state := taskv1.VisitState_VISIT_STATE_CANCELLED
	completed := t.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED ||
		(t.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED && next.Outcome == taskv1.TaskState_TASK_STATE_CLOSED && next.Reason != "IDLE")
	if completed {
		state = taskv1.VisitState_VISIT_STATE_DONE
	}
	t.Visit = b.write(state, "")
	next.Visit = nil
}

// visitDue is the booking's next timer: a reminder, or the end of its
// window while nobody has arrived (zero: none).
func (w *taskWorkflow) visitDue() time.Time {
	b := w.st.Visit
	if b == nil {
		return time.Time{}
	}
	if b.Reminded < len(b.RemindAt) {
		return b.RemindAt[b.Reminded]
	}
	if !b.Late && b.State != taskv1.VisitState_VISIT_STATE_ARRIVED {
		return b.End
	}
	return time.Time{}
}

// fireVisit sends the reminders due and flags a late visit; it answers
// the error of a step it could not write.
func (w *taskWorkflow) fireVisit(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	for w.open() && w.st.Visit != nil {
		due := w.visitDue()
		if due.IsZero() || now.Before(due) {
			return nil
		}
		b := w.st.Visit
		next := w.st.clone()
		next.Visit = b.clone()
		var t *taskv1.Transition
		if b.Reminded < len(b.RemindAt) {
			// Reminders missed while no worker ran are not sent one by one:
			// the latest due is, and none once the window has passed.
			i := b.Reminded
			for i+1 < len(b.RemindAt) && !now.Before(b.RemindAt[i+1]) {
				i++
			}
			next.Visit.Reminded = i + 1
			if !now.Before(b.End) {
				w.st = next
				continue
			}
			t = w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_REMINDED)
			t.NotifyUserIds = slices.Clone(b.Technicians)
		} else {
			next.Visit.Late = true
			t = w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_LATE)
			t.Visit = next.Visit.write(next.Visit.State, "")
			t.NotifyGroupIds, t.NotifySupervisors = []int64{w.current().GroupID}, true
			t.NotifyUserIds = slices.Clone(b.Technicians)
		}
		if _, err := w.write(ctx, next, t); err != nil {
			return err
		}
	}
	return nil
}
