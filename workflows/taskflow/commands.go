package taskflow

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

func refuse(kind, format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), kind)
}

// mayAct checks a command against where the task stands: open, in the
// process the actor saw (when given), and the actor in its group or a
// manager. Validators call it to refuse at once; handlers call it again
// under the lock, since another command may have moved the task between.
func (w *taskWorkflow) mayAct(a Actor, processID int64) error {
	if err := w.ready(); err != nil {
		return err
	}
	p := w.current()
	if processID != 0 && processID != p.ID {
		return refuse(ErrMoved, "task %s has moved on to %q meanwhile; reload it", w.in.Number, p.Name)
	}
	if !a.CanManage && !slices.Contains(a.Groups, p.GroupID) {
		return refuse(ErrNotMember, "only members of the group responsible for %q may do this", p.Name)
	}
	return nil
}

// ready refuses every command on a closed task, and on a stuck one: its
// last step is still to be written.
func (w *taskWorkflow) ready() error {
	if !w.open() {
		return refuse(ErrClosed, "task %s is closed", w.in.Number)
	}
	if w.stuck() {
		return w.stuckError()
	}
	return nil
}

func (w *taskWorkflow) validateAdvance(c Advance) error {
	if err := w.mayAct(c.Actor, c.ProcessID); err != nil {
		return err
	}
	return w.manual()
}

// manual refuses moves by people while the task is in an automatic
// process: it moves on by itself when its action is done.
func (w *taskWorkflow) manual() error {
	if w.automatic() {
		return refuse(ErrAutomatic, "%q runs on its own (%s); the task moves on when it is done", w.current().Name, ActionName(w.current().Action))
	}
	return nil
}

func (w *taskWorkflow) advance(ctx workflow.Context, c Advance) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	return w.advanceLocked(ctx, c)
}

// advanceLocked is advance under the lock.
func (w *taskWorkflow) advanceLocked(ctx workflow.Context, c Advance) (Step, error) {
	if err := w.validateAdvance(c); err != nil {
		return Step{}, err
	}
	next := w.st.clone()
	next.LastActivity = workflow.Now(ctx)
	from := w.current()
	comment, resolution := strings.TrimSpace(c.Comment), strings.TrimSpace(c.Resolution)
	if r, ok := w.resolutionRule(from.ID, resolution); ok {
		return w.closeStep(ctx, next, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, r.Outcome, "RESOLUTION:"+resolution, c.Actor, comment, resolution)
	}
	if next.Position == len(w.in.Route.Processes)-1 {
		return w.closeStep(ctx, next, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, taskv1.TaskState_TASK_STATE_CLOSED, "ROUTE_COMPLETED", c.Actor, comment, resolution)
	}
	w.enter(ctx, &next, next.Position+1)
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED)
	t.FromProcessId, t.ActorId, t.ActorName = from.ID, c.Actor.UserID, c.Actor.Name
	t.Text, t.Comment, t.Resolution = comment, comment != "", resolution
	t.NotifyGroupIds = groups(from.GroupID, w.at(&next).GroupID)
	return w.applyStep(ctx, next, t)
}

// resolutionRule finds a RESOLUTION rule that closes on completing the
// process with this code.
func (w *taskWorkflow) resolutionRule(processID int64, code string) (Rule, bool) {
	if code == "" {
		return Rule{}, false
	}
	for _, r := range w.in.Route.Rules {
		if r.Kind == taskv1.CloseRuleKind_CLOSE_RULE_KIND_RESOLUTION && strings.EqualFold(r.Resolution, code) && (r.ProcessID == 0 || r.ProcessID == processID) {
			return r, true
		}
	}
	return Rule{}, false
}

func (w *taskWorkflow) validateReturn(c Return) error {
	if err := w.mayAct(c.Actor, c.ProcessID); err != nil {
		return err
	}
	if err := w.manual(); err != nil {
		return err
	}
	if strings.TrimSpace(c.Comment) == "" {
		return refuse(ErrInvalid, "say why the task goes back: a comment is required")
	}
	_, err := w.returnTarget(c.ToProcessID)
	return err
}

func (w *taskWorkflow) returnTarget(to int64) (int, error) {
	if to == 0 {
		if w.st.Position == 0 {
			return 0, refuse(ErrInvalid, "task %s is in its first process; there is no earlier one", w.in.Number)
		}
		return w.st.Position - 1, nil
	}
	i := w.in.Route.index(to)
	if i < 0 || i >= w.st.Position {
		return 0, refuse(ErrInvalid, "process %d is not an earlier process of this task's route", to)
	}
	return i, nil
}

func (w *taskWorkflow) sendBack(ctx workflow.Context, c Return) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateReturn(c); err != nil {
		return Step{}, err
	}
	to, _ := w.returnTarget(c.ToProcessID)
	next := w.st.clone()
	next.LastActivity = workflow.Now(ctx)
	from := w.current()
	w.enter(ctx, &next, to)
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED)
	t.FromProcessId, t.ActorId, t.ActorName = from.ID, c.Actor.UserID, c.Actor.Name
	t.Text, t.Comment = strings.TrimSpace(c.Comment), true
	t.NotifyGroupIds = groups(from.GroupID, w.at(&next).GroupID)
	return w.applyStep(ctx, next, t)
}

func (w *taskWorkflow) validateAssign(c Assign) error {
	if err := w.mayAct(c.Actor, c.ProcessID); err != nil {
		return err
	}
	if err := w.manual(); err != nil {
		return err
	}
	if c.UserID != 0 && c.UserID != c.Actor.UserID && !c.AssigneeInGroup {
		return refuse(ErrInvalid, "user %d is not a member of the group responsible for %q", c.UserID, w.current().Name)
	}
	return nil
}

func (w *taskWorkflow) assign(ctx workflow.Context, c Assign) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateAssign(c); err != nil {
		return Step{}, err
	}
	user := c.UserID
	if user == 0 {
		user = c.Actor.UserID
	}
	next := w.st.clone()
	next.LastActivity = workflow.Now(ctx)
	next.AssigneeID = user
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_ASSIGNED)
	t.ActorId, t.ActorName, t.AssigneeId = c.Actor.UserID, c.Actor.Name, user
	t.NotifyGroupIds = []int64{w.current().GroupID}
	return w.applyStep(ctx, next, t)
}

func (w *taskWorkflow) validateSetPriority(c SetPriority) error {
	if err := w.ready(); err != nil {
		return err
	}
	if !c.Actor.CanManage {
		return refuse(ErrNotMember, "only supervisors may change a task's priority")
	}
	if _, ok := taskv1.TaskPriority_name[int32(c.Priority)]; !ok || c.Priority == taskv1.TaskPriority_TASK_PRIORITY_UNSPECIFIED {
		return refuse(ErrInvalid, "priority %d is not one of low, normal, high, urgent", c.Priority)
	}
	if c.Priority == w.priority() {
		return refuse(ErrInvalid, "task %s is %s already", w.in.Number, PriorityName(c.Priority))
	}
	return nil
}

// setPriority changes how urgent the task is; the SLA of the process it
// is in is counted again from its entry with the new share.
func (w *taskWorkflow) setPriority(ctx workflow.Context, c SetPriority) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateSetPriority(c); err != nil {
		return Step{}, err
	}
	next := w.st.clone()
	next.Priority = c.Priority
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_PRIORITY_CHANGED)
	t.ActorId, t.ActorName, t.Text = c.Actor.UserID, c.Actor.Name, PriorityName(c.Priority)
	return w.applyStep(ctx, next, t)
}

// priority is the task's priority, normal for a task begun before them.
func (w *taskWorkflow) priority() taskv1.TaskPriority {
	if w.st.Priority == taskv1.TaskPriority_TASK_PRIORITY_UNSPECIFIED {
		return taskv1.TaskPriority_TASK_PRIORITY_NORMAL
	}
	return w.st.Priority
}

// PriorityName is a priority as the timeline's text holds it ("high").
func PriorityName(p taskv1.TaskPriority) string {
	return strings.ToLower(strings.TrimPrefix(p.String(), "TASK_PRIORITY_"))
}

func (w *taskWorkflow) validateCancel(c Cancel) error {
	if err := w.ready(); err != nil {
		return err
	}
	if strings.TrimSpace(c.Reason) == "" {
		return refuse(ErrInvalid, "say why the task is cancelled: a reason is required")
	}
	if !c.Actor.CanManage && !(c.Actor.UserID == w.in.CreatedBy && w.st.Position == 0) {
		return refuse(ErrNotMember, "only supervisors, or the task's creator while it is in its first process, may cancel it")
	}
	return nil
}

func (w *taskWorkflow) cancel(ctx workflow.Context, c Cancel) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateCancel(c); err != nil {
		return Step{}, err
	}
	reason := strings.TrimSpace(c.Reason)
	return w.closeStep(ctx, w.st.clone(), taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED, taskv1.TaskState_TASK_STATE_CANCELLED, reason, c.Actor, reason, "")
}

// validateComment lets comment only those who may act on the task where
// it stands: its group's members and managers.
func (w *taskWorkflow) validateComment(c Comment) error {
	switch {
	case c.Audience == taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER && !c.Actor.Service:
		return refuse(ErrNotMember, "only the customer's own channel writes the customer's comments")
	case c.Audience == taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER:
		if err := w.ready(); err != nil {
			return err
		}
	default:
		if err := w.mayAct(c.Actor, 0); err != nil {
			return err
		}
	}
	if strings.TrimSpace(c.Text) == "" {
		return refuse(ErrInvalid, "the comment is empty")
	}
	return nil
}

func (w *taskWorkflow) comment(ctx workflow.Context, c Comment) (Step, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Step{}, err
	}
	defer w.mu.Unlock()
	if err := w.validateComment(c); err != nil {
		return Step{}, err
	}
	next := w.st.clone()
	next.LastActivity = workflow.Now(ctx)
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED)
	t.ActorId, t.ActorName, t.Text, t.Comment = c.Actor.UserID, c.Actor.Name, strings.TrimSpace(c.Text), true
	t.Audience = c.Audience
	t.NotifyGroupIds = []int64{w.current().GroupID}
	return w.applyStep(ctx, next, t)
}

// groups lists the distinct groups of a move.
func groups(from, to int64) []int64 {
	if from == to {
		return []int64{from}
	}
	return []int64{from, to}
}

// applyStep writes a command's step, making next the task's state, and
// answers it.
func (w *taskWorkflow) applyStep(ctx workflow.Context, next State, t *taskv1.Transition) (Step, error) {
	task, err := w.write(ctx, next, t)
	if err != nil {
		return Step{}, w.commandFailed(ctx, err)
	}
	return Step{Task: task, Sequence: t.GetSequence()}, nil
}

// closeStep closes the task on a command and answers the step.
func (w *taskWorkflow) closeStep(ctx workflow.Context, next State, kind taskv1.TaskEventKind, outcome taskv1.TaskState, reason string, by Actor, text, resolution string) (Step, error) {
	task, err := w.close(ctx, next, kind, outcome, reason, by, text, resolution)
	if err != nil {
		return Step{}, w.commandFailed(ctx, err)
	}
	return Step{Task: task, Sequence: w.st.Sequence}, nil
}
