package taskflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc/metadata"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// A route's follow-ups open service tasks on the same contract some time
// after one of its tasks closes (a "Welcome call" a week after the line is
// up). Each waits in a workflow of its own, started by the closing task's
// workflow: the task's workflow ends with its task, and the wait is a
// durable timer that outlives restarts of everything.

// FollowUpWorkflowName is the follow-up workflow's registered type.
const FollowUpWorkflowName = "FollowUpWorkflow"

// FollowUp is a follow-up of the route snapshot.
type FollowUp struct {
	RouteID      int64
	AfterSeconds int64
	Title        string
	Description  string `json:",omitempty"`
}

// FollowUpWorkflowID is the workflow of the n-th (1-based) follow-up of a
// task: one per task and follow-up.
func FollowUpWorkflowID(taskID int64, n int) string { return fmt.Sprintf("followup-%d-%d", taskID, n) }

// FollowUpInput is a follow-up to open: the task that closed, when, and
// what its route says to open.
type FollowUpInput struct {
	TaskID     int64
	Number     string
	ContractID int64
	ClosedAt   time.Time
	FollowUp   FollowUp
	// Key names the opening, so a retry opens the same task.
	Key string
}

// FollowUpResult is the task a follow-up opened, or why it opened none.
type FollowUpResult struct {
	TaskID    int64  `json:",omitempty"`
	Number    string `json:",omitempty"`
	NotOpened string `json:",omitempty"`
}

// Retries of the opening: the task service or Temporal being down only
// delays it.
var openRetry = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute}

// FollowUpWorkflow waits until the follow-up is due, then opens its task.
// A refusal (the contract no longer in service, the route gone) opens
// nothing, and is the workflow's result.
func FollowUpWorkflow(ctx workflow.Context, in FollowUpInput) (FollowUpResult, error) {
	due := in.ClosedAt.Add(time.Duration(in.FollowUp.AfterSeconds) * time.Second)
	if d := due.Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: "Follow-up: " + in.FollowUp.Title}).Get(ctx, nil); err != nil {
			return FollowUpResult{}, err
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &openRetry,
		Summary:             in.FollowUp.Title,
		Priority:            queueorder.Automatic,
	})
	var a *Activities
	var t *taskv1.Task
	err := workflow.ExecuteActivity(actx, a.OpenFollowUp, in).Get(ctx, &t)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		workflow.GetLogger(ctx).Warn("follow-up not opened", "task", in.Number, "title", in.FollowUp.Title, "reason", app.Message())
		return FollowUpResult{NotOpened: app.Message()}, nil
	}
	if err != nil {
		return FollowUpResult{}, err
	}
	return FollowUpResult{TaskID: t.GetId(), Number: t.GetNumber()}, nil
}

// OpenFollowUp opens a follow-up's service task through the task service,
// as any service task is opened, under the follow-up's idempotency key.
func (a *Activities) OpenFollowUp(ctx context.Context, in FollowUpInput) (*taskv1.Task, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, idempotency.Header, in.Key)
	resp, err := a.Tasks.CreateTask(ctx, &taskv1.CreateTaskRequest{
		ContractId: in.ContractID, RouteId: in.FollowUp.RouteID, Title: in.FollowUp.Title, Description: in.FollowUp.Description,
	})
	if err != nil {
		return nil, Retryable(err)
	}
	return resp.GetTask(), nil
}

// startFollowUps starts the follow-ups of a task that closed (not one
// cancelled), and returns once Temporal has them: they live on after this
// workflow ends.
func (w *taskWorkflow) startFollowUps(ctx workflow.Context) {
	if len(w.in.Route.FollowUps) == 0 || w.st.Outcome != taskv1.TaskState_TASK_STATE_CLOSED ||
		!w.takes.Has(ctx, "follow-ups") {
		return
	}
	closed := workflow.Now(ctx)
	for i, f := range w.in.Route.FollowUps {
		id := FollowUpWorkflowID(w.in.TaskID, i+1)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            id,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			StaticSummary:         fmt.Sprintf("%s: %s", w.in.Number, f.Title),
			TypedSearchAttributes: temporal.NewSearchAttributes(AttrContractID.ValueSet(fmt.Sprint(w.in.ContractID))),
		})
		in := FollowUpInput{TaskID: w.in.TaskID, Number: w.in.Number, ContractID: w.in.ContractID, ClosedAt: closed, FollowUp: f, Key: id}
		err := workflow.ExecuteChildWorkflow(cctx, FollowUpWorkflowName, in).GetChildWorkflowExecution().Get(ctx, nil)
		if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			workflow.GetLogger(ctx).Error("follow-up not started", "task", w.in.Number, "follow-up", id, "error", err)
		}
	}
}
