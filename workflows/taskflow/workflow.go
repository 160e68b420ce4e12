package taskflow

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/changes"
	"github.com/telecomcrm/crm/workflows/queueorder"
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
	w := &taskWorkflow{in: in, st: in.State, takes: taskChanges.Open(ctx)}
	if err := w.setup(ctx); err != nil {
		return Result{}, err
	}
	return w.run(ctx)
}

// taskChanges are the changes made while tasks' runs were open; a run
// opened at level 1 takes them all without asking each.
var taskChanges = changes.New("task-changes", map[string]workflow.Version{
	"created-by-workflow": 1,
	"state-after-write":   1,
	"process-actions":     1,
	"search-changes-only": 1,
	"deadline-timer-kept": 1,
	"follow-ups":          1,
})

type taskWorkflow struct {
	in Input
	st State
	// takes says which of taskChanges this run takes.
	takes changes.Run
	mu    workflow.Mutex
	// changes counts handled commands; the main loop wakes on it to re-arm
	// its timers.
	changes int
	// retryAsked is set by the retry signal: a stuck task retries now.
	retryAsked bool
	// settled tells that a closed task's contract effect is done.
	settled bool
	// nextRetry is when a stuck task next retries on its own.
	nextRetry time.Time
	// created is the task its first step wrote; createErr why it was not
	// (see create).
	created   *taskv1.Task
	createErr error
	// waiting is when a WAIT process's timer fires, while it runs.
	waiting time.Time
	// reopened is the task the reopening step wrote; reopenErr why it
	// was not (see reopen).
	reopened  *taskv1.Task
	reopenErr error
	// timer is the durable timer of the next deadline (see awaitUntil).
	timer deadline
}

func (w *taskWorkflow) open() bool { return w.st.Outcome == taskv1.TaskState_TASK_STATE_UNSPECIFIED }

func (w *taskWorkflow) current() Process { return w.at(&w.st) }

// at is the process a state stands in.
func (w *taskWorkflow) at(st *State) Process { return w.in.Route.Processes[st.Position] }

func (w *taskWorkflow) stuck() bool { return !w.st.StuckSince.IsZero() }

func (w *taskWorkflow) setup(ctx workflow.Context) error {
	w.mu = workflow.NewMutex(ctx)
	if w.st.Sequence == 0 {
		// A new task: its CREATED step is written by create, or was by the
		// task service before the workflow started.
		now := workflow.Now(ctx)
		w.st = State{Sequence: 1, EnteredAt: now, LastActivity: now, Groups: []int64{w.in.Route.Processes[0].GroupID}, Acting: w.in.Route.Processes[0].Action != nil,
			Priority: taskv1.TaskPriority_TASK_PRIORITY_NORMAL}
		if c := w.in.Create; c != nil && c.Priority != taskv1.TaskPriority_TASK_PRIORITY_UNSPECIFIED {
			w.st.Priority = c.Priority
		}
	}
	if w.creating() {
		if err := w.setupCreate(ctx); err != nil {
			return err
		}
	}
	if w.reopening() {
		if err := w.setupReopen(ctx); err != nil {
			return err
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (Snapshot, error) { return w.snapshot(), nil }); err != nil {
		return err
	}
	retries := workflow.GetSignalChannel(ctx, SignalRetry)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for retries.Receive(ctx, nil) {
			w.retryAsked = w.stuck()
		}
	})
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
		{UpdatePriority, w.setPriority, w.validateSetPriority},
		{UpdateRetry, w.retry, w.validateRetry},
		{UpdateBookVisit, w.bookVisit, w.validateBookVisit},
		{UpdateCancelVisit, w.cancelVisit, w.validateCancelVisit},
		{UpdateReportVisit, w.reportVisit, w.validateReportVisit},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{Validator: u.validate}); err != nil {
			return err
		}
	}
	return nil
}

func (w *taskWorkflow) snapshot() Snapshot {
	s := Snapshot{TaskID: w.in.TaskID, Open: w.open(), AssigneeID: w.st.AssigneeID, Breached: w.st.Breached, Sequence: w.st.Sequence,
		Stuck: w.stuck(), StuckSince: w.st.StuckSince, StuckError: w.st.StuckError}
	if w.stuck() {
		s.NextRetryAt = w.nextRetry
	}
	if w.open() {
		p := w.current()
		s.ProcessID, s.Process, s.GroupID = p.ID, p.Name, p.GroupID
		if p.Action != nil && w.st.Acting {
			s.Action, s.WaitUntil = ActionName(p.Action), w.waiting
		}
		s.SLADueAt = w.slaDueAt(&w.st)
	}
	return s
}

// run waits for commands and timers until the task closes and its
// contract is settled; a stuck task waits for its retries first.
func (w *taskWorkflow) run(ctx workflow.Context) (Result, error) {
	if w.creating() {
		if err := w.create(ctx); err != nil {
			return Result{}, err
		}
		w.nameProcess(ctx, "")
	}
	if w.reopening() {
		if err := w.reopen(ctx); err != nil {
			return Result{}, err
		}
	}
	for {
		if w.stuck() {
			if err := w.whileStuck(ctx); err != nil {
				return Result{}, err
			}
			continue
		}
		if !w.open() {
			if w.settled {
				break
			}
			if err := w.settleContract(ctx); err != nil {
				return Result{}, err
			}
			continue
		}
		if w.st.Acting || w.st.Acted {
			if err := w.act(ctx); err != nil {
				return Result{}, err
			}
			continue
		}
		seen := w.changes
		wake := func() bool { return w.changes != seen || !w.open() || w.stuck() }
		if due := w.nextDeadline(); due.IsZero() || due.After(workflow.Now(ctx)) {
			if err := w.awaitUntil(ctx, due, wake); err != nil {
				return Result{}, err
			}
		}
		if w.stuck() {
			continue
		}
		if err := w.fireTimers(ctx); err != nil {
			if !w.guarded(ctx) {
				return Result{}, err
			}
			w.becomeStuck(ctx, err)
			continue
		}
		if w.open() && !w.stuck() && w.historyLong(ctx) {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return Result{}, err
			}
			in := w.in
			in.State = w.st
			return Result{}, workflow.NewContinueAsNewError(ctx, TaskWorkflow, in)
		}
	}
	w.startFollowUps(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	return Result{Outcome: w.st.Outcome, Reason: w.st.Reason}, nil
}

// settleContract applies the route's contract effect when a service task
// closes (a connection's effect is its parent workflow's to apply). An
// effect still failing after its retries marks the task stuck, and is
// retried with it.
func (w *taskWorkflow) settleContract(ctx workflow.Context) error {
	err := w.applyEffect(ctx)
	if err == nil {
		w.settled = true
		return nil
	}
	if !w.guarded(ctx) {
		return err
	}
	w.becomeStuck(ctx, err)
	return nil
}

func (w *taskWorkflow) applyEffect(ctx workflow.Context) error {
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
		RetryPolicy:         &effectRetry,
		Priority:            queueorder.Automatic,
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
	if w.st.Breached {
		return time.Time{}
	}
	return w.slaDueAt(&w.st)
}

// slaDueAt is when a state's process's SLA runs out: the end of its booked
// visit's window, else its SLA counted from entry (zero: no SLA).
func (w *taskWorkflow) slaDueAt(st *State) time.Time {
	if st.Visit != nil {
		return st.Visit.End
	}
	budget := w.slaBudget(st)
	if budget <= 0 {
		return time.Time{}
	}
	return w.after(w.at(st).GroupID, st.EnteredAt, budget-st.SLASpent)
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

// nextDeadline is the next moment the task acts on its own (zero: none).
func (w *taskWorkflow) nextDeadline() time.Time {
	var next time.Time
	if due := w.slaDue(); !due.IsZero() {
		next = due
	}
	if _, due, ok := w.idleRule(); ok && (next.IsZero() || due.Before(next)) {
		next = due
	}
	for _, due := range []time.Time{w.visitDue(), w.warnDue(), w.escalateDue()} {
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	return next
}

// fireTimers acts on every deadline that has passed: an SLA breach is
// recorded once; an idle rule closes the task. It answers the error of a
// step it could not write; the task is as before that step.
func (w *taskWorkflow) fireTimers(ctx workflow.Context) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.fireDue(ctx)
}

// fireDue is fireTimers under the lock.
func (w *taskWorkflow) fireDue(ctx workflow.Context) error {
	if !w.open() {
		return nil
	}
	now := workflow.Now(ctx)
	if due := w.slaDue(); !due.IsZero() && !now.Before(due) {
		next := w.st.clone()
		next.Breached = true
		p := w.current()
		t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED)
		t.NotifyGroupIds, t.NotifySupervisors = []int64{p.GroupID}, true
		if _, err := w.write(ctx, next, t); err != nil {
			return err
		}
	}
	if err := w.fireEscalation(ctx, now); err != nil {
		return err
	}
	if err := w.fireVisit(ctx); err != nil {
		return err
	}
	if r, due, ok := w.idleRule(); ok && !now.Before(due) {
		_, err := w.close(ctx, w.st.clone(), taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, r.Outcome, "IDLE", Actor{}, "", "")
		return err
	}
	return nil
}

// step starts the transition record of a state after a change, giving
// it the next sequence.
func (w *taskWorkflow) step(ctx workflow.Context, st *State, kind taskv1.TaskEventKind) *taskv1.Transition {
	st.Sequence++
	t := &taskv1.Transition{
		TaskId:      w.in.TaskID,
		Sequence:    st.Sequence,
		Kind:        kind,
		Time:        timestamppb.New(workflow.Now(ctx)),
		AssigneeId:  st.AssigneeID,
		State:       taskv1.TaskState_TASK_STATE_OPEN,
		SlaBreached: st.Breached,
		Priority:    st.Priority,
	}
	w.endVisit(st, t)
	if st.Outcome == taskv1.TaskState_TASK_STATE_UNSPECIFIED {
		t.ProcessId = w.at(st).ID
		if due := w.slaDueAt(st); !due.IsZero() {
			t.SlaDueAt = timestamppb.New(due)
		}
	} else {
		t.State, t.CloseReason = st.Outcome, st.Reason
	}
	return t
}

// Retries of a step's write. A command's caller waits for it and the
// workflow's lock is held meanwhile, so it is short: nine attempts over
// about eleven seconds ride out a dropped connection, a database failover
// or the task service's restart (a container started again takes a few
// seconds before it serves; three seconds were too few, the compose
// stack's kill drill found). Anything longer is an outage: the task is
// marked stuck and retries on a durable timer instead. (Variables so a
// test can shorten them.)
var (
	stepRetry = temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 2 * time.Second, MaximumAttempts: 9}
	stepWait  = 15 * time.Second
	// effectRetry: nobody waits for a contract effect; a few minutes of
	// retries before the task is marked stuck.
	effectRetry = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10}
)

func (w *taskWorkflow) writeOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: stepWait,
		StartToCloseTimeout:    5 * time.Second,
		RetryPolicy:            &stepRetry,
	})
}

// write writes a step to the read model (a local activity: the command's
// caller waits for it) and, once written, makes next the task's state and
// keeps the search attributes current. When the write fails the task is
// as it was.
func (w *taskWorkflow) write(ctx workflow.Context, next State, t *taskv1.Transition) (*taskv1.Task, error) {
	var a *Activities
	var task *taskv1.Task
	if err := workflow.ExecuteLocalActivity(w.writeOptions(ctx), a.Apply, t).Get(ctx, &task); err != nil {
		if !w.guarded(ctx) {
			w.st = next // runs recorded before changed state first
		}
		return nil, err
	}
	moved := t.GetState() == taskv1.TaskState_TASK_STATE_OPEN && t.GetFromProcessId() != 0 && t.GetProcessId() != t.GetFromProcessId()
	w.st = next
	w.changes++
	if moved {
		if i := w.in.Route.index(t.GetFromProcessId()); i >= 0 {
			w.nameProcess(ctx, w.in.Route.Processes[i].Name)
		}
	}
	return task, w.upsertSearch(ctx)
}

// guarded tells whether this run keeps a task as it was when a step
// cannot be written, and marks it stuck. Runs recorded before had changed
// their state before the write and retried it for a day.
func (w *taskWorkflow) guarded(ctx workflow.Context) bool {
	return w.takes.Has(ctx, "state-after-write")
}

// upsertSearch keeps the search attributes a step can change current. Only
// the ones that changed are sent, and none when none did (a comment, an
// assignment): each upsert is an event and a visibility write on the
// cluster, a quarter of a transition's cost on a small one. Runs recorded
// before sent all of them at every step.
func (w *taskWorkflow) upsertSearch(ctx workflow.Context) error {
	all := !w.takes.Has(ctx, "search-changes-only")
	now := workflow.GetTypedSearchAttributes(ctx)
	var updates []temporal.SearchAttributeUpdate
	add := func(u temporal.SearchAttributeUpdate, same bool) {
		if all || !same {
			updates = append(updates, u)
		}
	}
	state, breached := stateName(w.st.Outcome), w.st.Breached
	v, ok := now.GetKeyword(AttrState)
	add(AttrState.ValueSet(state), ok && v == state)
	b, ok := now.GetBool(AttrSLABreached)
	add(AttrSLABreached.ValueSet(breached), ok && b == breached)
	if w.open() {
		p := w.current()
		v, ok := now.GetKeyword(AttrProcess)
		add(AttrProcess.ValueSet(p.Name), ok && v == p.Name)
		g, ok := now.GetInt64(AttrGroup)
		add(AttrGroup.ValueSet(p.GroupID), ok && g == p.GroupID)
	}
	if len(updates) == 0 {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func stateName(s taskv1.TaskState) string {
	if s == taskv1.TaskState_TASK_STATE_UNSPECIFIED {
		s = taskv1.TaskState_TASK_STATE_OPEN
	}
	return s.String()
}

// enter moves a state into the process at position pos.
func (w *taskWorkflow) enter(ctx workflow.Context, st *State, pos int) {
	paused := st.Paused
	w.pauseOrResume(ctx, st, pos)
	st.Position = pos
	st.EnteredAt = workflow.Now(ctx)
	st.Breached, st.Warned, st.Escalated = false, false, false
	w.resumed(st, paused)
	st.AssigneeID = 0
	st.Acting, st.Acted, st.ActionError, st.ActionRefused = w.at(st).Action != nil, false, "", false
	if g := w.at(st).GroupID; !slices.Contains(st.Groups, g) {
		st.Groups = append(st.Groups, g)
	}
}

// close ends the task with an outcome; the step is told to every group
// that took part. kind is CLOSED for a rule, CANCELLED for a person.
func (w *taskWorkflow) close(ctx workflow.Context, next State, kind taskv1.TaskEventKind, outcome taskv1.TaskState, reason string, by Actor, text, resolution string) (*taskv1.Task, error) {
	from := w.at(&next)
	next.Outcome, next.Reason = outcome, reason
	t := w.step(ctx, &next, kind)
	t.FromProcessId, t.ActorId, t.ActorName, t.Text, t.Resolution = from.ID, by.UserID, by.Name, text, resolution
	t.Comment = text != "" && kind != taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED
	t.NotifyGroupIds = slices.Clone(next.Groups)
	return w.write(ctx, next, t)
}
