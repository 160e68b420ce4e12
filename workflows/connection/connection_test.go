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
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// tasks stands in for the task service's CreateConnectionTask.
type tasks struct {
	taskv1.TaskServiceClient
	calls  int
	refuse bool
}

func (f *tasks) CreateConnectionTask(_ context.Context, req *taskv1.CreateConnectionTaskRequest, _ ...grpc.CallOption) (*taskv1.CreateConnectionTaskResponse, error) {
	f.calls++
	if f.refuse {
		return nil, status.Error(codes.FailedPrecondition, "route 1 has no processes")
	}
	return &taskv1.CreateConnectionTaskResponse{
		Task:  &taskv1.Task{Id: 40, Number: "T-000040", Kind: taskv1.TaskKind_TASK_KIND_CONNECTION, ContractId: req.GetContractId(), WorkflowId: "task-40", CurrentProcess: &taskv1.Process{Id: 1, Name: "Sales check", GroupId: 1}},
		Route: &taskv1.Route{Id: 1, Version: 1, Name: "New connection", Processes: []*taskv1.Process{{Id: 1, Name: "Sales check", GroupId: 1}}},
	}, nil
}

type effects struct{ applied []taskv1.ContractEffect }

// contracts stands in for the contract service's writes.
type contracts struct {
	recorded []*contractv1.RecordContractRequest
	removed  []int64
	refuse   bool
}

func (c *contracts) Record(_ context.Context, req *contractv1.RecordContractRequest) error {
	if c.refuse {
		return status.Error(codes.InvalidArgument, "tariff 3 does not exist")
	}
	c.recorded = append(c.recorded, req)
	return nil
}

func (c *contracts) Remove(_ context.Context, id int64) error {
	c.removed = append(c.removed, id)
	return nil
}

// start runs a connection as the contract service starts it now: with
// the contract to write.
func start(t *testing.T, ts *tasks, cs *contracts) (answer error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivity(&Activities{Tasks: ts, Contracts: cs})
	env.RegisterActivity(&taskflow.Activities{Contracts: &effects{}})
	env.RegisterWorkflowWithOptions(func(workflow.Context, taskflow.Input) (taskflow.Result, error) {
		return taskflow.Result{Outcome: taskv1.TaskState_TASK_STATE_CLOSED}, nil
	}, workflow.RegisterOptions{Name: "TaskWorkflow"})
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateTask, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { answer = err }, OnComplete: func(_ any, err error) { answer = err },
		})
	}, 0)
	env.ExecuteWorkflow(ConnectionWorkflow, Input{ContractID: 9, CreatedBy: 2, Contract: &NewContract{CustomerID: 4, TariffID: 3, Address: "a"}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	return answer
}

func TestAConnectionWritesItsContractFirst(t *testing.T) {
	ts, cs := &tasks{}, &contracts{}
	if err := start(t, ts, cs); err != nil {
		t.Fatal(err)
	}
	if len(cs.recorded) != 1 || cs.recorded[0].GetId() != 9 || cs.recorded[0].GetCustomerId() != 4 || ts.calls != 1 || len(cs.removed) != 0 {
		t.Fatalf("recorded %v, %d task creations, removed %v", cs.recorded, ts.calls, cs.removed)
	}
}

func TestAContractRefusedIsNeitherWrittenNorConnected(t *testing.T) {
	ts, cs := &tasks{}, &contracts{refuse: true}
	if err := start(t, ts, cs); err == nil {
		t.Fatal("the update answered no error for a refused contract")
	}
	if ts.calls != 0 || len(cs.removed) != 0 {
		t.Fatalf("%d task creations, removed %v", ts.calls, cs.removed)
	}
}

func TestAContractWhoseTaskIsRefusedIsRemovedByItsWorkflow(t *testing.T) {
	ts, cs := &tasks{refuse: true}, &contracts{}
	if err := start(t, ts, cs); err == nil {
		t.Fatal("the update answered no error for a refused task")
	}
	if len(cs.recorded) != 1 || len(cs.removed) != 1 || cs.removed[0] != 9 {
		t.Fatalf("recorded %v, removed %v; want contract 9 written and removed", cs.recorded, cs.removed)
	}
}

// A run started by the earlier code (its contract written before it
// started) writes no contract and connects it as before.
func TestAConnectionStartedBeforeContractsWereWrittenByWorkflowsConnectsAsBefore(t *testing.T) {
	fx, got, _ := run(t, taskflow.Result{Outcome: taskv1.TaskState_TASK_STATE_CLOSED})
	if got.GetId() != 40 || len(fx.applied) != 1 {
		t.Fatalf("answered %v, effects %v", got, fx.applied)
	}
}

func (e *effects) Apply(_ context.Context, _ int64, effect taskv1.ContractEffect) error {
	e.applied = append(e.applied, effect)
	return nil
}

func run(t *testing.T, child taskflow.Result) (*effects, *taskv1.Task, Result) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	fx := &effects{}
	env.RegisterActivity(&Activities{Tasks: &tasks{}})
	env.RegisterActivity(&taskflow.Activities{Contracts: fx})
	env.RegisterWorkflowWithOptions(func(workflow.Context, taskflow.Input) (taskflow.Result, error) { return child, nil }, workflow.RegisterOptions{Name: "TaskWorkflow"})
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
	fx, got, res := run(t, taskflow.Result{Outcome: taskv1.TaskState_TASK_STATE_CLOSED, Reason: "ROUTE_COMPLETED"})
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
	fx, _, _ := run(t, taskflow.Result{Outcome: taskv1.TaskState_TASK_STATE_CANCELLED, Reason: "RESOLUTION:customer_refused"})
	if len(fx.applied) != 1 || fx.applied[0] != taskv1.ContractEffect_CONTRACT_EFFECT_CANCEL {
		t.Fatalf("effects %v, want the contract cancelled", fx.applied)
	}
}
