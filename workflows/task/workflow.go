package task

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// A long-lived task continues as new when the server suggests it, when its
// history passes historyLimit events, or after stepLimit steps in one run —
// well before Temporal's own limits. (Variables so a test can lower them.)
var (
	historyLimit = 4000
	stepLimit    = 500
)

// TaskWorkflow runs one task along its route until it closes.
func TaskWorkflow(ctx workflow.Context, in Input) (Result, error) {
	w := &taskWorkflow{in: in, st: in.State}
	if err := w.setup(ctx); err != nil {
		return Result{}, err
	}
	return w.run(ctx)
}

type taskWorkflow struct {
	in Input
	st State
	mu workflow.Mutex
	// changes counts handled commands; the main loop wakes on it to re-arm
	// its timers.
	changes int
}

func (w *taskWorkflow) open() bool { return w.st.Outcome == taskv1.TaskState_TASK_STATE_UNSPECIFIED }

func (w *taskWorkflow) current() Process { return w.in.Route.Processes[w.st.Position] }

func (w *taskWorkflow) setup(ctx workflow.Context) error {
	w.mu = workflow.NewMutex(ctx)
	if w.st.Sequence == 0 {
		// A new task: the task service wrote its CREATED step.
		now := workflow.Now(ctx)
		w.st = State{Sequence: 1, EnteredAt: now, LastActivity: now, Groups: []int64{w.in.Route.Processes[0].GroupID}}
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (Snapshot, error) { return w.snapshot(), nil }); err != nil {
		return err
	}
	for _, u := range []struct {
		name     string
		handler  any
		validate any
	}{
		{UpdateAdvance, w.advance, w.validateAdvance},
		{UpdateReturn, w.sendBack, w.validateReturn},
		{UpdateAssign, w.assign, w.validateAssign},
		{UpdateCancel, w.cancel, w.validateCancel},
		{UpdateComment, w.comment, w.validateComment},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{Validator: u.validate}); err != nil {
			return err
		}
	}
	return nil
}

func (w *taskWorkflow) snapshot() Snapshot {
	s := Snapshot{TaskID: w.in.TaskID, Open: w.open(), AssigneeID: w.st.AssigneeID, Breached: w.st.Breached, Sequence: w.st.Sequence}
	if w.open() {
		p := w.current()
		s.ProcessID, s.Process, s.GroupID = p.ID, p.Name, p.GroupID
		if p.SLASeconds > 0 {
			s.SLADueAt = w.st.EnteredAt.Add(time.Duration(p.SLASeconds) * time.Second)
		}
	}
	return s
}

// run waits for commands and timers until the task closes.
func (w *taskWorkflow) run(ctx workflow.Context) (Result, error) {
	for w.open() {
		seen := w.changes
		wake := func() bool { return w.changes != seen || !w.open() }
		due, ok := w.nextDeadline()
		if !ok {
			if err := workflow.Await(ctx, wake); err != nil {
				return Result{}, err
			}
		} else if d := due.Sub(workflow.Now(ctx)); d > 0 {
			if _, err := workflow.AwaitWithTimeout(ctx, d, wake); err != nil {
				return Result{}, err
			}
		}
		if err := w.fireTimers(ctx); err != nil {
			return Result{}, err
		}
		if w.open() && w.historyLong(ctx) {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return Result{}, err
			}
			in := w.in
			in.State = w.st
			return Result{}, workflow.NewContinueAsNewError(ctx, TaskWorkflow, in)
		}
	}
	if err := w.settleContract(ctx); err != nil {
		return Result{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	return Result{Outcome: w.st.Outcome, Reason: w.st.Reason}, nil
}

// settleContract applies the route's contract effect when a service task
// closes (a connection's effect is its parent workflow's to apply).
func (w *taskWorkflow) settleContract(ctx workflow.Context) error {
	switch w.in.Route.Effect {
	case taskv1.ContractEffect_CONTRACT_EFFECT_SUSPEND, taskv1.ContractEffect_CONTRACT_EFFECT_RESUME, taskv1.ContractEffect_CONTRACT_EFFECT_TERMINATE:
	default:
		return nil
	}
	if w.in.Kind != taskv1.TaskKind_TASK_KIND_SERVICE || w.st.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		return nil
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
	var a *Activities
	return workflow.ExecuteActivity(actx, a.ApplyContractEffect, w.in.ContractID, w.in.Route.Effect).Get(ctx, nil)
}

func (w *taskWorkflow) historyLong(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > historyLimit || w.changes >= stepLimit
}

// slaDue is when the current process's SLA runs out (zero: no SLA, or
// already breached).
func (w *taskWorkflow) slaDue() time.Time {
	p := w.current()
	if p.SLASeconds <= 0 || w.st.Breached {
		return time.Time{}
	}
	return w.st.EnteredAt.Add(time.Duration(p.SLASeconds) * time.Second)
}

// idleRule returns the IDLE rule that fires first in the current process.
func (w *taskWorkflow) idleRule() (Rule, time.Time, bool) {
	var (
		best Rule
		at   time.Time
		ok   bool
	)
	for _, r := range w.in.Route.Rules {
		if r.Kind != taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE || r.IdleSeconds <= 0 || (r.ProcessID != 0 && r.ProcessID != w.current().ID) {
			continue
		}
		due := w.st.LastActivity.Add(time.Duration(r.IdleSeconds) * time.Second)
		if !ok || due.Before(at) {
			best, at, ok = r, due, true
		}
	}
	return best, at, ok
}

func (w *taskWorkflow) nextDeadline() (time.Time, bool) {
	var next time.Time
	if due := w.slaDue(); !due.IsZero() {
		next = due
	}
	if _, due, ok := w.idleRule(); ok && (next.IsZero() || due.Before(next)) {
		next = due
	}
	return next, !next.IsZero()
}

// fireTimers acts on every deadline that has passed: an SLA breach is
// recorded once; an idle rule closes the task.
func (w *taskWorkflow) fireTimers(ctx workflow.Context) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if !w.open() {
		return nil
	}
	now := workflow.Now(ctx)
	if due := w.slaDue(); !due.IsZero() && !now.Before(due) {
		w.st.Breached = true
		p := w.current()
		t := w.step(ctx, taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED)
		t.NotifyGroupIds, t.NotifySupervisors = []int64{p.GroupID}, true
		if _, err := w.apply(ctx, t); err != nil {
			return err
		}
	}
	if r, due, ok := w.idleRule(); ok && !now.Before(due) {
		_, err := w.close(ctx, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, r.Outcome, "IDLE", Actor{}, "", "")
		return err
	}
	return nil
}

// step starts a transition record of the task's state after a change.
func (w *taskWorkflow) step(ctx workflow.Context, kind taskv1.TaskEventKind) *taskv1.Transition {
	w.st.Sequence++
	t := &taskv1.Transition{
		TaskId:      w.in.TaskID,
		Sequence:    w.st.Sequence,
		Kind:        kind,
		Time:        timestamppb.New(workflow.Now(ctx)),
		AssigneeId:  w.st.AssigneeID,
		State:       taskv1.TaskState_TASK_STATE_OPEN,
		SlaBreached: w.st.Breached,
	}
	if w.open() {
		t.ProcessId = w.current().ID
		if due := w.current(); due.SLASeconds > 0 {
			t.SlaDueAt = timestamppb.New(w.st.EnteredAt.Add(time.Duration(due.SLASeconds) * time.Second))
		}
	} else {
		t.State, t.CloseReason = w.st.Outcome, w.st.Reason
	}
	return t
}

// apply writes a step to the read model (a local activity: the command's
// caller waits for it) and keeps the search attributes current.
func (w *taskWorkflow) apply(ctx workflow.Context, t *taskv1.Transition) (*taskv1.Task, error) {
	actx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 24 * time.Hour,
		StartToCloseTimeout:    10 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	var a *Activities
	var task *taskv1.Task
	if err := workflow.ExecuteLocalActivity(actx, a.Apply, t).Get(ctx, &task); err != nil {
		return nil, err
	}
	w.changes++
	return task, w.upsertSearch(ctx)
}

func (w *taskWorkflow) upsertSearch(ctx workflow.Context) error {
	updates := []temporal.SearchAttributeUpdate{
		AttrState.ValueSet(stateName(w.st.Outcome)),
		AttrSLABreached.ValueSet(w.st.Breached),
	}
	if w.open() {
		updates = append(updates, AttrProcess.ValueSet(w.current().Name), AttrGroup.ValueSet(w.current().GroupID))
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func stateName(s taskv1.TaskState) string {
	if s == taskv1.TaskState_TASK_STATE_UNSPECIFIED {
		s = taskv1.TaskState_TASK_STATE_OPEN
	}
	return s.String()
}

// enter moves the task into the process at position pos.
func (w *taskWorkflow) enter(ctx workflow.Context, pos int) {
	w.st.Position = pos
	w.st.EnteredAt = workflow.Now(ctx)
	w.st.Breached = false
	w.st.AssigneeID = 0
	if g := w.current().GroupID; !slices.Contains(w.st.Groups, g) {
		w.st.Groups = append(w.st.Groups, g)
	}
}

// close ends the task with an outcome; the step is told to every group
// that took part. kind is CLOSED for a rule, CANCELLED for a person.
func (w *taskWorkflow) close(ctx workflow.Context, kind taskv1.TaskEventKind, outcome taskv1.TaskState, reason string, by Actor, text, resolution string) (*taskv1.Task, error) {
	from := w.current()
	w.st.Outcome, w.st.Reason = outcome, reason
	t := w.step(ctx, kind)
	t.FromProcessId, t.ActorId, t.ActorName, t.Text, t.Resolution = from.ID, by.UserID, by.Name, text, resolution
	t.Comment = text != "" && kind != taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED
	t.NotifyGroupIds = slices.Clone(w.st.Groups)
	return w.apply(ctx, t)
}
