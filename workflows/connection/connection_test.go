package connection

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/task"
)

// tasks stands in for the task service's CreateConnectionTask.
type tasks struct {
	taskv1.TaskServiceClient
	calls int
}

func (f *tasks) CreateConnectionTask(_ context.Context, req *taskv1.CreateConnectionTaskRequest, _ ...grpc.CallOption) (*taskv1.CreateConnectionTaskResponse, error) {
	f.calls++
	return &taskv1.CreateConnectionTaskResponse{
		Task:  &taskv1.Task{Id: 40, Number: "T-000040", Kind: taskv1.TaskKind_TASK_KIND_CONNECTION, ContractId: req.GetContractId(), WorkflowId: "task-40", CurrentProcess: &taskv1.Process{Id: 1, Name: "Sales check", GroupId: 1}},
		Route: &taskv1.Route{Id: 1, Version: 1, Name: "New connection", Processes: []*taskv1.Process{{Id: 1, Name: "Sales check", GroupId: 1}}},
	}, nil
}

type effects struct{ applied []taskv1.ContractEffect }

func (e *effects) Apply(_ context.Context, _ int64, effect taskv1.ContractEffect) error {
	e.applied = append(e.applied, effect)
	return nil
}

func run(t *testing.T, child task.Result) (*effects, *taskv1.Task, Result) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	fx := &effects{}
	env.RegisterActivity(&Activities{Tasks: &tasks{}})
	env.RegisterActivity(&task.Activities{Contracts: fx})
	env.RegisterWorkflowWithOptions(func(workflow.Context, task.Input) (task.Result, error) { return child, nil }, workflow.RegisterOptions{Name: "TaskWorkflow"})
	var got *taskv1.Task
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateTask, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { t.Errorf("update rejected: %v", err) },
			OnComplete: func(v any, err error) { got, _ = v.(*taskv1.Task) },
		})
	}, 0)
	env.ExecuteWorkflow(ConnectionWorkflow, Input{ContractID: 9, CreatedBy: 2})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return fx, got, res
}

func TestConnectionClosedActivatesTheContractAndAnswersTheTask(t *testing.T) {
	fx, got, res := run(t, task.Result{Outcome: taskv1.TaskState_TASK_STATE_CLOSED, Reason: "ROUTE_COMPLETED"})
	if got.GetId() != 40 || got.GetContractId() != 9 {
		t.Fatalf("the update answered %v, want the connection task", got)
	}
	if len(fx.applied) != 1 || fx.applied[0] != taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE {
		t.Fatalf("effects %v, want the contract activated", fx.applied)
	}
	if res.TaskID != 40 || res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("result %+v", res)
	}
}

func TestConnectionCancelledCancelsTheContract(t *testing.T) {
	fx, _, _ := run(t, task.Result{Outcome: taskv1.TaskState_TASK_STATE_CANCELLED, Reason: "RESOLUTION:customer_refused"})
	if len(fx.applied) != 1 || fx.applied[0] != taskv1.ContractEffect_CONTRACT_EFFECT_CANCEL {
		t.Fatalf("effects %v, want the contract cancelled", fx.applied)
	}
}
