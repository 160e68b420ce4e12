package connection

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/changes/changestest"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// tasks stands in for the task service's planning (and, for runs started
// before tasks were written by their workflows, creation) of connection
// tasks.
type tasks struct {
	taskv1.TaskServiceClient
	calls  int
	refuse bool
}

func (f *tasks) answer(contractID int64) (*taskv1.Task, *taskv1.Route, error) {
	f.calls++
	if f.refuse {
		return nil, nil, status.Error(codes.FailedPrecondition, "route 1 has no processes")
	}
	return &taskv1.Task{Id: 40, Number: "T-000040", Kind: taskv1.TaskKind_TASK_KIND_CONNECTION, Title: "Подключение C-000009", ContractId: contractID, WorkflowId: "task-40", CurrentProcess: &taskv1.Process{Id: 1, Name: "Sales check", GroupId: 1}},
		&taskv1.Route{Id: 1, Version: 1, Name: "New connection", Processes: []*taskv1.Process{{Id: 1, Name: "Sales check", GroupId: 1}}}, nil
}

func (f *tasks) PlanConnectionTask(_ context.Context, req *taskv1.PlanConnectionTaskRequest, _ ...grpc.CallOption) (*taskv1.PlanConnectionTaskResponse, error) {
	t, r, err := f.answer(req.GetContractId())
	if err != nil {
		return nil, err
	}
	return &taskv1.PlanConnectionTaskResponse{Task: t, Route: r, ActorName: "sales"}, nil
}

func (f *tasks) CreateConnectionTask(_ context.Context, req *taskv1.CreateConnectionTaskRequest, _ ...grpc.CallOption) (*taskv1.CreateConnectionTaskResponse, error) {
	t, r, err := f.answer(req.GetContractId())
	if err != nil {
		return nil, err
	}
	return &taskv1.CreateConnectionTaskResponse{Task: t, Route: r}, nil
}

// child stands in for the task's workflow: one started to write its task
// does (or fails to, when unwritable) and tells its parent, then ends
// with outcome.
type child struct {
	outcome    taskflow.Result
	unwritable bool
	// input is what it was started with.
	input taskflow.Input
}

func (c *child) run(ctx workflow.Context, in taskflow.Input) (taskflow.Result, error) {
	c.input = in
	if in.Create != nil {
		if c.unwritable {
			return taskflow.Result{}, temporal.NewNonRetryableApplicationError("task not created", taskflow.ErrNotWritten, nil)
		}
		p := workflow.GetInfo(ctx).ParentWorkflowExecution
		written := &taskv1.Task{Id: in.TaskID, Number: in.Number, ContractId: in.ContractID, Title: in.Create.Title}
		if err := workflow.SignalExternalWorkflow(ctx, p.ID, p.RunID, taskflow.SignalWritten, written).Get(ctx, nil); err != nil {
			return taskflow.Result{}, err
		}
	}
	return c.outcome, nil
}

type effects struct{ applied []taskv1.ContractEffect }

func (e *effects) Apply(_ context.Context, _ int64, effect taskv1.ContractEffect) error {
	e.applied = append(e.applied, effect)
	return nil
}

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

// connection is one run of the workflow in the test environment.
type connection struct {
	tasks     tasks
	contracts contracts
	effects   effects
	child     child
	// before is the change the run was started before, if any.
	before string
	// asked are the changes the run asked Temporal about.
	asked []string
	// in is what the run starts with: as the contract service starts it
	// now, with the contract to write.
	in Input
	// answered and answerErr are the update's answer.
	answered  *taskv1.Task
	answerErr error
	result    Result
}

func newConnection() *connection {
	return &connection{
		child: child{outcome: taskflow.Result{Outcome: taskv1.TaskState_TASK_STATE_CLOSED, Reason: "ROUTE_COMPLETED"}},
		in:    Input{ContractID: 9, CreatedBy: 2, Contract: &NewContract{CustomerID: 4, TariffID: 3, Address: "a"}},
	}
}

func (c *connection) run(t *testing.T) *connection {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	watch := changestest.Watch(env)
	env.RegisterActivity(&Activities{Tasks: &c.tasks, Contracts: &c.contracts})
	env.RegisterActivity(&taskflow.Activities{Contracts: &c.effects})
	env.RegisterWorkflowWithOptions(c.child.run, workflow.RegisterOptions{Name: taskflow.WorkflowName})
	if c.before != "" {
		// a run from before the change set, which asks each change
		env.OnGetVersion(connectionChanges.ID(), workflow.DefaultVersion, connectionChanges.Latest()).Return(workflow.DefaultVersion)
		env.OnGetVersion(c.before, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateTask, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { c.answerErr = err },
			OnComplete: func(v any, err error) {
				c.answered, _ = v.(*taskv1.Task)
				c.answerErr = err
			},
		})
	}, 0)
	env.ExecuteWorkflow(ConnectionWorkflow, c.in)
	c.asked = watch.IDs()
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if err := env.GetWorkflowResult(&c.result); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAConnectionWritesItsContractAndHasItsTaskWrittenByTheTasksWorkflow(t *testing.T) {
	c := newConnection().run(t)
	// each change asked is a marker and a visibility write on the cluster
	if !slices.Equal(c.asked, []string{connectionChanges.ID()}) {
		t.Errorf("asked Temporal about %v, want only the set of changes", c.asked)
	}
	if c.answerErr != nil {
		t.Fatal(c.answerErr)
	}
	if len(c.contracts.recorded) != 1 || c.contracts.recorded[0].GetId() != 9 || c.contracts.recorded[0].GetCustomerId() != 4 || c.tasks.calls != 1 || len(c.contracts.removed) != 0 {
		t.Fatalf("recorded %v, %d task plans, removed %v", c.contracts.recorded, c.tasks.calls, c.contracts.removed)
	}
	in := c.child.input
	if in.Create == nil || in.Create.Title != "Подключение C-000009" || in.Create.ActorName != "sales" || in.TaskID != 40 || in.Kind != taskv1.TaskKind_TASK_KIND_CONNECTION {
		t.Fatalf("the task's workflow was started with %+v (create %+v), want it to write task 40", in, in.Create)
	}
	// the answer is the task as its workflow wrote it
	if c.answered.GetId() != 40 || c.answered.GetTitle() != "Подключение C-000009" {
		t.Fatalf("the update answered %v, want task 40 as written", c.answered)
	}
}

func TestAContractRefusedIsNeitherWrittenNorConnected(t *testing.T) {
	c := newConnection()
	c.contracts.refuse = true
	c.run(t)
	if c.answerErr == nil {
		t.Fatal("the update answered no error for a refused contract")
	}
	if c.tasks.calls != 0 || len(c.contracts.removed) != 0 {
		t.Fatalf("%d task plans, removed %v", c.tasks.calls, c.contracts.removed)
	}
}

func TestAContractWhoseTaskIsRefusedIsRemovedByItsWorkflow(t *testing.T) {
	c := newConnection()
	c.tasks.refuse = true
	c.run(t)
	if c.answerErr == nil {
		t.Fatal("the update answered no error for a refused task")
	}
	if len(c.contracts.recorded) != 1 || len(c.contracts.removed) != 1 || c.contracts.removed[0] != 9 {
		t.Fatalf("recorded %v, removed %v; want contract 9 written and removed", c.contracts.recorded, c.contracts.removed)
	}
}

func TestAContractWhoseTaskCannotBeWrittenIsRemovedAndNothingIsActivated(t *testing.T) {
	c := newConnection()
	c.child.unwritable = true
	c.run(t)
	if c.answerErr == nil || c.answered != nil {
		t.Fatalf("the update answered %v, %v; want an error for a task never written", c.answered, c.answerErr)
	}
	if len(c.contracts.removed) != 1 || c.contracts.removed[0] != 9 || len(c.effects.applied) != 0 {
		t.Fatalf("removed %v, effects %v; want contract 9 removed and nothing applied", c.contracts.removed, c.effects.applied)
	}
}

// A run started before tasks were written by their workflows has the task
// service write the task and starts its workflow on it, as before.
func TestAConnectionStartedBeforeTasksWereWrittenByTheirWorkflowsConnectsAsBefore(t *testing.T) {
	c := newConnection()
	c.before = "task-written-by-its-workflow"
	c.run(t)
	if c.answered.GetId() != 40 || c.child.input.Create != nil || len(c.effects.applied) != 1 {
		t.Fatalf("answered %v, child input %+v, effects %v", c.answered, c.child.input, c.effects.applied)
	}
}

// A run started by the earlier code still (its contract written before it
// started) writes no contract and connects it.
func TestAConnectionStartedBeforeContractsWereWrittenByWorkflowsConnects(t *testing.T) {
	c := newConnection()
	c.in.Contract = nil
	c.run(t)
	if c.answered.GetId() != 40 || len(c.contracts.recorded) != 0 || len(c.effects.applied) != 1 {
		t.Fatalf("answered %v, recorded %v, effects %v", c.answered, c.contracts.recorded, c.effects.applied)
	}
}

func TestConnectionClosedActivatesTheContractAndAnswersTheTask(t *testing.T) {
	c := newConnection().run(t)
	if c.answered.GetId() != 40 || c.answered.GetContractId() != 9 {
		t.Fatalf("the update answered %v, want the connection task", c.answered)
	}
	if len(c.effects.applied) != 1 || c.effects.applied[0] != taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE {
		t.Fatalf("effects %v, want the contract activated", c.effects.applied)
	}
	if c.result.TaskID != 40 || c.result.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("result %+v", c.result)
	}
}

func TestConnectionCancelledCancelsTheContract(t *testing.T) {
	c := newConnection()
	c.child.outcome = taskflow.Result{Outcome: taskv1.TaskState_TASK_STATE_CANCELLED, Reason: "RESOLUTION:customer_refused"}
	c.run(t)
	if len(c.effects.applied) != 1 || c.effects.applied[0] != taskv1.ContractEffect_CONTRACT_EFFECT_CANCEL {
		t.Fatalf("effects %v, want the contract cancelled", c.effects.applied)
	}
}
