package taskflow

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// Client is how the task service starts task workflows and sends them
// people's commands.
type Client struct {
	Temporal  client.Client
	TaskQueue string
}

// createWait bounds how long opening a task waits for its first step,
// past that step's own bounded retry.
const createWait = 20 * time.Second

// Create starts a service task's workflow with Update-with-Start and
// answers the task once the workflow has written it. A second call for the
// same task joins the first's workflow; one whose first run failed (its
// task was never written) starts it again.
func (c *Client) Create(ctx context.Context, in Input) (*taskv1.Task, error) {
	ctx, cancel := context.WithTimeout(ctx, createWait)
	defer cancel()
	first := in.Route.Processes[0]
	start := c.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       WorkflowID(in.TaskID),
		TaskQueue:                c.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		Priority:                 queueorder.Start(ctx),
		TypedSearchAttributes: InitialSearchAttributes(&taskv1.Task{
			Id: in.TaskID, Number: in.Number, CustomerId: in.CustomerID, ContractId: in.ContractID, RouteId: in.Route.ID,
			CurrentProcess: &taskv1.Process{Name: first.Name, GroupId: first.GroupID},
		}),
	}, TaskWorkflow, in)
	h, err := c.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: UpdateCreate, UpdateName: UpdateCreate, WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return nil, err
	}
	var t *taskv1.Task
	err = h.Get(ctx, &t)
	return t, err
}

// Send delivers a command (an update) and waits for its step to be written.
// A command sent under an idempotency key carries an update id made of it,
// so Temporal answers a retry with the first outcome instead of a second
// step.
func (c *Client) Send(ctx context.Context, taskID int64, update string, arg any) (Step, error) {
	h, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     idempotency.UpdateID(ctx, update),
		WorkflowID:   WorkflowID(taskID),
		UpdateName:   update,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return Step{}, err
	}
	var s Step
	err = h.Get(ctx, &s)
	return s, err
}

// Action tells how the action of the automatic process a task is in
// stands: the workflow names it (and a wait's end); Temporal's pending
// activity tells its attempts and last error. nil when none is running.
func (c *Client) Action(ctx context.Context, taskID int64) (*taskv1.ActionStatus, error) {
	s, err := c.snapshot(ctx, taskID)
	if err != nil {
		return nil, err
	}
	if s.Action == "" {
		return nil, nil
	}
	out := &taskv1.ActionStatus{Name: s.Action, Attempt: 1}
	if !s.WaitUntil.IsZero() {
		out.WaitUntil = timestamppb.New(s.WaitUntil)
		return out, nil
	}
	d, err := c.Temporal.DescribeWorkflow(ctx, WorkflowID(taskID), "")
	if err != nil {
		return nil, err
	}
	for _, p := range d.RawResponse.GetPendingActivities() {
		if p.GetActivityType().GetName() != s.Action {
			continue
		}
		out.Attempt = max(p.GetAttempt(), 1)
		if f := p.GetLastFailure(); f != nil && p.GetAttempt() > 1 {
			out.Waiting, out.LastError = true, fitReason(f.GetMessage())
			if t := p.GetNextAttemptScheduleTime(); t != nil {
				out.NextAttemptTime = t
			}
		}
	}
	return out, nil
}

// Sequence tells the last step a task's workflow's history holds: a query
// is answered from the recorded history (one asked while a workflow task
// runs waits for it to be recorded).
func (c *Client) Sequence(ctx context.Context, taskID int64) (int64, error) {
	s, err := c.snapshot(ctx, taskID)
	return s.Sequence, err
}

func (c *Client) snapshot(ctx context.Context, taskID int64) (Snapshot, error) {
	var s Snapshot
	v, err := c.Temporal.QueryWorkflow(ctx, WorkflowID(taskID), "", QueryState)
	if err != nil {
		return s, err
	}
	return s, v.Get(&s)
}
