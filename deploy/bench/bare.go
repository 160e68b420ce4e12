package bench

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

const bareQueue = "crm-bench-bare"

// BareWorkflow is the floor: an update that runs one trivial activity,
// local or regular, and answers.
func BareWorkflow(ctx workflow.Context, local bool) error {
	done := false
	steps := 0
	err := workflow.SetUpdateHandler(ctx, "step", func(ctx workflow.Context) (int, error) {
		var err error
		if local {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
			err = workflow.ExecuteLocalActivity(lctx, Noop).Get(ctx, nil)
		} else {
			actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
			err = workflow.ExecuteActivity(actx, Noop).Get(ctx, nil)
		}
		steps++
		return steps, err
	})
	if err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "done").Receive(ctx, &done)
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// Noop is the trivial activity.
func Noop(context.Context) error { return nil }

// bareLoop measures updates on `workflows` bare workflows, `steps` each,
// from `clients` clients.
func bareLoop(ctx context.Context, c client.Client, name string, local bool, workflows, steps, clients int) (*Sample, error) {
	w := worker.New(c, bareQueue, worker.Options{})
	w.RegisterWorkflow(BareWorkflow)
	w.RegisterActivity(Noop)
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()
	ids := make([]string, workflows)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%s-%d-%d", map[bool]string{true: "local", false: "regular"}[local], time.Now().UnixNano(), i)
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: bareQueue}, BareWorkflow, local); err != nil {
			return nil, err
		}
	}
	s := run(name, clients, workflows*steps, func(_, i int) error {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: ids[i%workflows], UpdateName: "step", WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return err
		}
		return h.Get(ctx, nil)
	})
	for _, id := range ids {
		_ = c.SignalWorkflow(ctx, id, "", "done", true)
	}
	return s, nil
}
