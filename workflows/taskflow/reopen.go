package taskflow

import (
	"context"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// A task that ended may be opened again within the deployment's period
// (the task service checks it): a new run of the same workflow id, started
// with the reopen update, continues the task where its last run left it —
// the same number, timeline and sequence — in a process of its route
// version. The run's first step is REOPENED; then it goes on as any task.

// reopening tells whether this run is to open its task again first.
func (w *taskWorkflow) reopening() bool {
	return w.in.Reopen != nil && w.in.State.Sequence == w.in.Reopen.After && w.st.Sequence == w.in.Reopen.After
}

// setupReopen answers the reopen update once the step is settled.
func (w *taskWorkflow) setupReopen(ctx workflow.Context) error {
	return workflow.SetUpdateHandler(ctx, UpdateReopen, func(ctx workflow.Context) (Step, error) {
		if err := workflow.Await(ctx, func() bool { return w.reopened != nil || w.reopenErr != nil }); err != nil {
			return Step{}, err
		}
		if w.reopenErr != nil {
			return Step{}, w.reopenErr
		}
		return Step{Task: w.reopened, Sequence: w.in.Reopen.After + 1}, nil
	})
}

// reopen writes the REOPENED step. A step that cannot be written leaves
// the task closed: the run ends, and the person is told to try again.
func (w *taskWorkflow) reopen(ctx workflow.Context) error {
	r := w.in.Reopen
	pos := w.in.Route.index(r.ProcessID)
	if pos < 0 {
		w.reopenErr = refuse(ErrInvalid, "process %d is not on the task's route", r.ProcessID)
		return w.endReopen(ctx, w.reopenErr)
	}
	now := workflow.Now(ctx)
	next := w.st.clone()
	next.Outcome, next.Reason = taskv1.TaskState_TASK_STATE_UNSPECIFIED, ""
	next.StuckSince, next.StuckError, next.StuckAttempts, next.StuckMarked = time.Time{}, "", 0, false
	next.Visit = nil
	w.enter(ctx, &next, pos)
	next.LastActivity = now
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED)
	t.ActorId, t.ActorName, t.Text, t.Comment = r.Actor.UserID, r.Actor.Name, r.Reason, r.Reason != ""
	t.NotifyGroupIds = slices.Clone(next.Groups)
	task, err := w.write(ctx, next, t)
	if err == nil {
		w.reopened = task
		w.nameProcess(ctx, "")
		return nil
	}
	if kind, msg, ok := refusedData(err); ok && kind == ErrRefused {
		w.reopenErr = refuse(ErrRefused, "%s", msg)
	} else {
		w.reopenErr = refuse(ErrNotWritten, "task %s could not be opened again; try again in a moment", w.in.Number)
	}
	return w.endReopen(ctx, err)
}

// endReopen ends a run that could not open its task again, once the
// update has its answer.
func (w *taskWorkflow) endReopen(ctx workflow.Context, cause error) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return temporal.NewNonRetryableApplicationError("task not reopened: "+failure(cause), ErrNotWritten, cause)
}

// Reopen starts the run that opens an ended task again, with the reopen
// update, and answers the step once written. A task whose workflow still
// runs (it is open, or settling its end) is refused by Temporal: the
// caller says so.
func (c *Client) Reopen(ctx context.Context, in Input) (Step, error) {
	ctx, cancel := context.WithTimeout(ctx, createWait)
	defer cancel()
	start := c.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       WorkflowID(in.TaskID),
		TaskQueue:                c.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Priority:                 queueorder.Start(ctx),
	}, TaskWorkflow, in)
	h, err := c.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: idempotency.UpdateID(ctx, UpdateReopen), UpdateName: UpdateReopen, WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return Step{}, err
	}
	var s Step
	err = h.Get(ctx, &s)
	return s, err
}
