// Package connection is the workflow of a new contract: it creates the
// connection task on route No. 1, runs it as a child task workflow, and
// activates the contract when the task closes, or cancels it when the task
// is cancelled.
package connection

import (
	"context"
	"fmt"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/workflows/changes"
	"github.com/telecomcrm/crm/workflows/queueorder"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// WorkflowName is the workflow's registered type.
const WorkflowName = "ConnectionWorkflow"

// UpdateTask answers the connection task once it exists; the contract
// service sends it with the workflow's start (Update-with-Start), so the
// caller gets the task without polling.
const UpdateTask = "task"

// WorkflowID is the id of a contract's connection workflow.
func WorkflowID(contractID int64) string { return fmt.Sprintf("connection-%d", contractID) }

// Input starts a connection.
type Input struct {
	ContractID int64
	// CreatedBy is the user who opened the contract.
	CreatedBy int64
	// Contract is the new contract the workflow writes as its first step,
	// under ContractID (allocated by the contract service): a contract
	// exists only with the workflow that connects it. Runs started before
	// contracts were written this way have none; their contract was
	// written before they started.
	Contract *NewContract `json:",omitempty"`
}

// NewContract is what a new contract is written with.
type NewContract struct {
	CustomerID int64
	TariffID   int64
	Address    string
}

// Result is how the connection ended.
type Result struct {
	TaskID  int64
	Outcome taskv1.TaskState
	Reason  string
}

// connectionChanges are the changes made while connections' runs were
// open; a run opened at level 1 takes them all without asking each.
var connectionChanges = changes.New("connection-changes", map[string]workflow.Version{
	"contract-recorded-by-workflow":      1,
	"task-written-by-its-workflow":       1,
	"answer-after-task-workflow-started": 1,
})

// ConnectionWorkflow creates and runs a contract's connection task.
func ConnectionWorkflow(ctx workflow.Context, in Input) (Result, error) {
	takes := connectionChanges.Open(ctx)
	var (
		created *taskv1.Task
		failed  error
	)
	err := workflow.SetUpdateHandler(ctx, UpdateTask, func(ctx workflow.Context) (*taskv1.Task, error) {
		if err := workflow.Await(ctx, func() bool { return created != nil || failed != nil }); err != nil {
			return nil, err
		}
		return created, failed
	})
	if err != nil {
		return Result{}, err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: time.Hour,
		StartToCloseTimeout:    10 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	var a *Activities
	recorded := false
	if in.Contract != nil && takes.Has(ctx, "contract-recorded-by-workflow") {
		if failed = workflow.ExecuteLocalActivity(lctx, a.RecordContract, in.ContractID, *in.Contract, workflow.Now(ctx)).Get(ctx, nil); failed != nil {
			// refused data (its customer or tariff gone meanwhile): nothing
			// was written, and there is nothing to connect
			workflow.GetLogger(ctx).Warn("contract not written", "contract", in.ContractID, "err", failed)
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return Result{}, nil
		}
		recorded = true
	}
	// Tasks are written by their own workflows: the task's row exists only
	// once its workflow runs, so a command sent to it always finds it
	// (runs started before had the task service write it first).
	written := takes.Has(ctx, "task-written-by-its-workflow")
	var (
		t     *taskv1.Task
		route *taskv1.Route
		first *taskflow.NewTask
	)
	if written {
		var plan *taskv1.PlanConnectionTaskResponse
		failed = workflow.ExecuteLocalActivity(lctx, a.PlanConnectionTask, in).Get(ctx, &plan)
		t, route = plan.GetTask(), plan.GetRoute()
		first = &taskflow.NewTask{
			Title: t.GetTitle(), Description: t.GetDescription(), ContractNumber: t.GetContractNumber(),
			CustomerName: t.GetCustomerName(), ActorName: plan.GetActorName(),
		}
	} else {
		var made *taskv1.CreateConnectionTaskResponse
		failed = workflow.ExecuteLocalActivity(lctx, a.CreateConnectionTask, in).Get(ctx, &made)
		t, route = made.GetTask(), made.GetRoute()
	}
	// nothing connects: the contract is gone (its creation was
	// compensated) or invalid. One this run wrote goes again, so no
	// contract is left without its connection.
	undo := func(err error) (Result, error) {
		workflow.GetLogger(ctx).Warn("no connection task", "contract", in.ContractID, "err", err)
		if recorded {
			dctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: &removeRetry})
			if err := workflow.ExecuteActivity(dctx, a.RemoveContract, in.ContractID).Get(ctx, nil); err != nil {
				return Result{}, err
			}
		}
		_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		return Result{}, nil
	}
	if failed != nil {
		return undo(failed)
	}
	// Answering only once the task's workflow runs means a command sent
	// right after the contract opened finds it (runs recorded before this
	// change answered at once).
	answerAfterStart := written || takes.Has(ctx, "answer-after-task-workflow-started")
	if !answerAfterStart {
		created = t
	}

	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            t.GetWorkflowId(),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: taskflow.InitialSearchAttributes(t),
	})
	cin := taskflow.NewInput(t, route)
	cin.Create = first
	child := workflow.ExecuteChildWorkflow(cctx, taskflow.TaskWorkflow, cin)
	switch {
	case written:
		// the task's first step writes it, and says so
		if failed = awaitWritten(ctx, child, &created); failed != nil {
			return undo(failed)
		}
	case answerAfterStart:
		if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			failed = err
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return Result{}, err
		}
		created = t
	}
	var res taskflow.Result
	if err := child.Get(ctx, &res); err != nil {
		return Result{}, err
	}
	effect := taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE
	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		effect = taskv1.ContractEffect_CONTRACT_EFFECT_CANCEL
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
	var ta *taskflow.Activities
	if err := workflow.ExecuteActivity(actx, ta.ApplyContractEffect, in.ContractID, effect).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	return Result{TaskID: t.GetId(), Outcome: res.Outcome, Reason: res.Reason}, nil
}

// awaitWritten waits for the task's workflow to say it has written the
// task, or to end without having written it.
func awaitWritten(ctx workflow.Context, child workflow.ChildWorkflowFuture, created **taskv1.Task) error {
	signals := workflow.GetSignalChannel(ctx, taskflow.SignalWritten)
	var ended error
	done := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(signals, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, created) })
	sel.AddFuture(child, func(f workflow.Future) {
		done = true
		ended = f.Get(ctx, nil)
	})
	sel.Select(ctx)
	if *created == nil && done {
		// its word may have come with its end
		signals.ReceiveAsync(created)
	}
	if *created != nil {
		return nil
	}
	if ended == nil {
		ended = temporal.NewNonRetryableApplicationError("the connection task ended before it was written", taskflow.ErrNotWritten, nil)
	}
	return ended
}

// Retries of the removal of a contract whose connection task could not be
// made: the workflow lives until it is done.
var removeRetry = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}

// Activities write the contract and create its connection task through
// the services.
type Activities struct {
	Tasks     taskv1.TaskServiceClient
	Contracts Contracts
}

// Contracts writes and removes the contracts connections own.
type Contracts interface {
	Record(ctx context.Context, req *contractv1.RecordContractRequest) error
	// Remove deletes a pending contract without a connection task.
	Remove(ctx context.Context, id int64) error
}

// RecordContract writes the new contract, pending, under its id.
func (a *Activities) RecordContract(ctx context.Context, id int64, c NewContract, at time.Time) error {
	return taskflow.Retryable(a.Contracts.Record(ctx, &contractv1.RecordContractRequest{
		Id: id, CustomerId: c.CustomerID, TariffId: c.TariffID, Address: c.Address, Time: timestamppb.New(at),
	}))
}

// RemoveContract removes a contract this workflow wrote and could not
// connect.
func (a *Activities) RemoveContract(ctx context.Context, id int64) error {
	return a.Contracts.Remove(ctx, id)
}

// PlanConnectionTask allocates the contract's task on route No. 1 and
// returns it, as its workflow is to write it, with the route version it
// runs on.
func (a *Activities) PlanConnectionTask(ctx context.Context, in Input) (*taskv1.PlanConnectionTaskResponse, error) {
	resp, err := a.Tasks.PlanConnectionTask(ctx, &taskv1.PlanConnectionTaskRequest{ContractId: in.ContractID, CreatedBy: in.CreatedBy})
	return resp, taskflow.Retryable(err)
}

// CreateConnectionTask creates (or finds again) the contract's task on
// route No. 1 and returns it with the route version it runs on (runs
// started before tasks were written by their workflows).
func (a *Activities) CreateConnectionTask(ctx context.Context, in Input) (*taskv1.CreateConnectionTaskResponse, error) {
	resp, err := a.Tasks.CreateConnectionTask(ctx, &taskv1.CreateConnectionTaskRequest{
		ContractId: in.ContractID,
		WorkflowId: WorkflowID(in.ContractID),
		CreatedBy:  in.CreatedBy,
	})
	return resp, taskflow.Retryable(err)
}

// Starter starts connection workflows for the contract service.
type Starter struct {
	Client    client.Client
	TaskQueue string
}

// startWait bounds how long a new contract waits for its connection task;
// past it the caller is answered (and the contract compensated) while the
// workflow goes on retrying, or ends when it finds the contract gone.
const startWait = 20 * time.Second

// StartConnection starts the contract's connection workflow, or joins the
// one already running, and returns its task once it exists.
func (s *Starter) StartConnection(ctx context.Context, c *contractv1.Contract) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	var createdBy int64
	if p, ok := auth.From(ctx); ok {
		createdBy = p.UserID
	}
	start := s.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       WorkflowID(c.GetId()),
		TaskQueue:                s.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		Priority:                 queueorder.Start(ctx),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			taskflow.AttrContractID.ValueSet(strconv.FormatInt(c.GetId(), 10)),
			taskflow.AttrCustomerID.ValueSet(strconv.FormatInt(c.GetCustomerId(), 10)),
		),
	}, ConnectionWorkflow, Input{ContractID: c.GetId(), CreatedBy: createdBy, Contract: &NewContract{
		CustomerID: c.GetCustomerId(), TariffID: c.GetTariffId(), Address: c.GetAddress(),
	}})
	h, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: UpdateTask, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return 0, err
	}
	var t *taskv1.Task
	if err := h.Get(ctx, &t); err != nil {
		return 0, err
	}
	return t.GetId(), nil
}
