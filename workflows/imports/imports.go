// Package imports runs an import's file into the CRM: the workflow
// "import-<id>" writes its rows batch by batch through the contract
// service's ImportService, so a run stopped by a crash, a restart or a
// person resumes at the first batch not written (docs/import.md).
package imports

import (
	"context"
	"errors"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/workflows/queueorder"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// WorkflowName is the import workflow's registered name.
const WorkflowName = "Import"

// WorkflowID names the run of an import.
func WorkflowID(importID int64) string { return "import-" + strconv.FormatInt(importID, 10) }

// Input names the import.
type Input struct {
	ImportID int64
}

// batchesPerRun bound a run's history: after them it continues as new.
const batchesPerRun = 200

// batchRetry keeps a batch trying through a service or database outage
// of about half an hour; then the import is FAILED, naming the error,
// and a person resumes it.
var batchRetry = temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 35}

// Workflow marks the import running, writes its batches in order, and
// records how it ended. Cancelled, it finishes the batch it is writing.
func Workflow(ctx workflow.Context, in Input) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, RetryPolicy: &batchRetry, WaitForCancellation: true,
	})
	var a *Activities
	var imp *contractv1.Import
	if err := workflow.ExecuteActivity(ctx, a.SetState, in.ImportID, contractv1.ImportState_IMPORT_STATE_RUNNING, "").Get(ctx, &imp); err != nil {
		return err
	}
	end := func(state contractv1.ImportState, why string) error {
		done, _ := workflow.NewDisconnectedContext(ctx)
		return workflow.ExecuteActivity(done, a.SetState, in.ImportID, state, why).Get(done, nil)
	}
	row := imp.GetRowsDone() + 1
	for n := 0; n < batchesPerRun; n++ {
		var out *contractv1.ImportBatchResponse
		err := workflow.ExecuteActivity(ctx, a.Batch, in.ImportID, row).Get(ctx, &out)
		switch {
		case err == nil && out.GetDone():
			return end(contractv1.ImportState_IMPORT_STATE_DONE, "")
		case temporal.IsCanceledError(err) || ctx.Err() != nil:
			return end(contractv1.ImportState_IMPORT_STATE_CANCELLED, "")
		case err != nil:
			return end(contractv1.ImportState_IMPORT_STATE_FAILED, reason(err))
		}
		row = out.GetNextRow()
	}
	return workflow.NewContinueAsNewError(ctx, WorkflowName, in)
}

// reason is a failed batch's error as a person reads it.
func reason(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// Activities are the workflow's steps: calls of the contract service.
type Activities struct {
	Imports contractv1.ImportServiceClient
}

// SetState records the run's state; RUNNING answers the import as it is.
func (a *Activities) SetState(ctx context.Context, id int64, state contractv1.ImportState, why string) (*contractv1.Import, error) {
	resp, err := a.Imports.SetImportState(ctx, &contractv1.SetImportStateRequest{ImportId: id, State: state, Error: why})
	if err != nil {
		return nil, taskflow.Retryable(err)
	}
	return resp.GetImport(), nil
}

// Batch writes the batch from row.
func (a *Activities) Batch(ctx context.Context, id int64, row int32) (*contractv1.ImportBatchResponse, error) {
	resp, err := a.Imports.ImportBatch(ctx, &contractv1.ImportBatchRequest{ImportId: id, FromRow: row})
	return resp, taskflow.Retryable(err)
}

// Register puts the workflow and its steps on a worker.
func Register(w worker.Registry, a *Activities) {
	w.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivity(a)
}

// Runner starts and stops import runs for the contract service.
type Runner struct {
	Client    client.Client
	TaskQueue string
}

// Run starts the import's run, or finds it running.
func (r *Runner) Run(ctx context.Context, importID int64) error {
	_, err := r.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       WorkflowID(importID),
		TaskQueue:                r.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		Priority:                 queueorder.Bulk,
	}, WorkflowName, Input{ImportID: importID})
	return err
}

// Cancel asks the run to stop after its batch.
func (r *Runner) Cancel(ctx context.Context, importID int64) error {
	return r.Client.CancelWorkflow(ctx, WorkflowID(importID), "")
}
