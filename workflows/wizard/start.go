package wizard

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// Register puts the wizard's workflow and steps on a worker.
func Register(w worker.Registry, a *Activities) {
	w.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivity(a)
}

// Starter runs wizards for the contract service.
type Starter struct {
	Client    client.Client
	TaskQueue string
}

// Connect starts the wizard run named key — or joins it, when a retry of
// the same request finds it running — and waits for its outcome.
func (s *Starter) Connect(ctx context.Context, key string, in Input) (*contractv1.CreateConnectionResponse, error) {
	start := s.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       WorkflowID(key),
		TaskQueue:                s.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		Priority:                 queueorder.Start(ctx),
	}, WorkflowName, in)
	h, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: UpdateResult, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return nil, err
	}
	var out *contractv1.CreateConnectionResponse
	if err := h.Get(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}
