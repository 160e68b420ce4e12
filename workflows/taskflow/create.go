package taskflow

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// A task exists because its workflow does: the task service allocates the
// id, and the workflow's first step writes the task's row (CREATED,
// sequence 1). A service task's workflow is started with the create
// update, which answers the task once written, or why it is not; a
// connection task's is started by its contract's connection workflow,
// which it tells once the task is written (SignalWritten).

// creating tells whether this run is to write its task first: a task's
// first run started with what its row holds.
func (w *taskWorkflow) creating() bool { return w.in.Create != nil && w.in.State.Sequence == 0 }

// setupCreate answers the create update once the first step is settled.
func (w *taskWorkflow) setupCreate(ctx workflow.Context) error {
	return workflow.SetUpdateHandler(ctx, UpdateCreate, func(ctx workflow.Context) (*taskv1.Task, error) {
		if err := workflow.Await(ctx, func() bool { return w.created != nil || w.createErr != nil }); err != nil {
			return nil, err
		}
		return w.created, w.createErr
	})
}

// RecordRequest is the write of a task's row, made at time at.
func (in Input) RecordRequest(at time.Time) *taskv1.RecordTaskRequest {
	n := in.Create
	return &taskv1.RecordTaskRequest{
		Id: in.TaskID, Title: n.Title, Description: n.Description, RouteId: in.Route.ID, RouteVersion: in.Route.Version,
		ContractId: in.ContractID, ContractNumber: n.ContractNumber, CustomerId: in.CustomerID, CustomerName: n.CustomerName,
		CreatedBy: in.CreatedBy, ActorName: n.ActorName, Time: timestamppb.New(at), Kind: in.Kind, Priority: n.Priority,
	}
}

// Retries of the removal of a task whose first step failed: the workflow
// lives on until it is done, however long the task service is down.
var discardRetry = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}

// create writes the task's row. When that fails the workflow fails too,
// leaving no row behind: data the task service refuses was never written;
// a write whose answer was lost may have been, so it is removed first.
func (w *taskWorkflow) create(ctx workflow.Context) error {
	// Marks the histories of tasks written by their workflow.
	w.takes.Has(ctx, "created-by-workflow")
	var a *Activities
	err := workflow.ExecuteLocalActivity(w.writeOptions(ctx), a.Record, w.in.RecordRequest(w.st.EnteredAt)).Get(ctx, &w.created)
	if err == nil {
		w.tellParent(ctx)
		return nil
	}
	if kind, msg, ok := refusedData(err); ok && kind == ErrRefused {
		w.createErr = refuse(ErrRefused, "%s", msg)
	} else {
		w.createErr = refuse(ErrNotWritten, "task %s could not be written; try again in a moment", w.in.Number)
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: &discardRetry})
		if derr := workflow.ExecuteActivity(actx, a.Discard, w.in.TaskID).Get(ctx, nil); derr != nil {
			return derr
		}
	}
	workflow.GetLogger(ctx).Warn("task not created: its first step could not be written", "task", w.in.Number, "error", failure(err))
	if aerr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); aerr != nil {
		return aerr
	}
	return temporal.NewNonRetryableApplicationError("task not created: "+failure(err), ErrNotWritten, err)
}

// tellParent tells a connection workflow its task is written, so it
// answers the contract service with it. A parent gone meanwhile has no one
// to tell: the task goes on all the same.
func (w *taskWorkflow) tellParent(ctx workflow.Context) {
	parent := workflow.GetInfo(ctx).ParentWorkflowExecution
	if parent == nil || w.in.Kind != taskv1.TaskKind_TASK_KIND_CONNECTION {
		return
	}
	if err := workflow.SignalExternalWorkflow(ctx, parent.ID, parent.RunID, SignalWritten, w.created).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("connection workflow not told its task is written", "task", w.in.Number, "error", err)
	}
}
