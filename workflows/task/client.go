package task

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/idempotency"
)

// Client is how the task service starts task workflows and sends them
// people's commands.
type Client struct {
	Temporal  client.Client
	TaskQueue string
}

// Start starts a service task's workflow; a second start of the same task
// is refused by Temporal rather than run twice.
func (c *Client) Start(ctx context.Context, t *taskv1.Task, r *taskv1.Route) error {
	_, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       WorkflowID(t.GetId()),
		TaskQueue:                c.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		TypedSearchAttributes:    InitialSearchAttributes(t),
	}, TaskWorkflow, NewInput(t, r))
	return err
}

// Exists tells whether a task's workflow was started (after a start whose
// answer was lost).
func (c *Client) Exists(ctx context.Context, taskID int64) (bool, error) {
	_, err := c.Temporal.DescribeWorkflow(ctx, WorkflowID(taskID), "")
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
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
