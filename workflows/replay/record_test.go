//go:build record

package replay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/workflows/connection"
	"github.com/telecomcrm/crm/workflows/internal/devserver"
	"github.com/telecomcrm/crm/workflows/runner"
	"github.com/telecomcrm/crm/workflows/taskflow"
	"github.com/telecomcrm/crm/workflows/wizard"
)

// readModel answers the workflows' activities as the task service would;
// while down it answers Unavailable.
type readModel struct {
	taskv1.TaskServiceClient
	mu   sync.Mutex
	down bool
}

func (r *readModel) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *readModel) isDown() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down
}

func (r *readModel) SetTaskStuck(context.Context, *taskv1.SetTaskStuckRequest, ...grpc.CallOption) (*taskv1.SetTaskStuckResponse, error) {
	if r.isDown() {
		return nil, status.Error(codes.Unavailable, "connection refused")
	}
	return &taskv1.SetTaskStuckResponse{}, nil
}

func (r *readModel) ApplyTransition(_ context.Context, req *taskv1.ApplyTransitionRequest, _ ...grpc.CallOption) (*taskv1.ApplyTransitionResponse, error) {
	if r.isDown() {
		return nil, status.Error(codes.Unavailable, "connection refused")
	}
	t := req.GetTransition()
	return &taskv1.ApplyTransitionResponse{Task: &taskv1.Task{Id: t.GetTaskId(), State: t.GetState(), CurrentProcess: &taskv1.Process{Id: t.GetProcessId()}}}, nil
}

func (r *readModel) CreateConnectionTask(_ context.Context, req *taskv1.CreateConnectionTaskRequest, _ ...grpc.CallOption) (*taskv1.CreateConnectionTaskResponse, error) {
	return &taskv1.CreateConnectionTaskResponse{
		Task:  &taskv1.Task{Id: 500 + req.GetContractId(), Number: "T-000500", Kind: taskv1.TaskKind_TASK_KIND_CONNECTION, ContractId: req.GetContractId(), CustomerId: 1, RouteId: 1, WorkflowId: taskflow.WorkflowID(500 + req.GetContractId()), CurrentProcess: &taskv1.Process{Id: 1, Name: "Sales check", GroupId: 1}},
		Route: &taskv1.Route{Id: 1, Version: 1, Name: "New connection", ContractEffect: taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE, Processes: []*taskv1.Process{{Id: 1, Name: "Sales check", GroupId: 1}, {Id: 2, Name: "Installation", GroupId: 3}}},
	}, nil
}

type effects struct{}

func (effects) Apply(context.Context, int64, taskv1.ContractEffect) error { return nil }

func (effects) Record(context.Context, *contractv1.RecordContractRequest) error { return nil }

func (effects) Remove(context.Context, int64) error { return nil }

func (effects) Change(context.Context, taskflow.ContractAction) error { return nil }

// PlanConnectionTask answers a contract's connection task as its
// workflow is to write it.
func (r *readModel) PlanConnectionTask(_ context.Context, req *taskv1.PlanConnectionTaskRequest, _ ...grpc.CallOption) (*taskv1.PlanConnectionTaskResponse, error) {
	made, _ := r.CreateConnectionTask(context.Background(), &taskv1.CreateConnectionTaskRequest{ContractId: req.GetContractId()})
	made.Task.Title = fmt.Sprintf("Подключение C-%06d", req.GetContractId())
	return &taskv1.PlanConnectionTaskResponse{Task: made.GetTask(), Route: made.GetRoute(), ActorName: "ann"}, nil
}

// RecordTask writes a task as its workflow's first step.
func (r *readModel) RecordTask(_ context.Context, req *taskv1.RecordTaskRequest, _ ...grpc.CallOption) (*taskv1.RecordTaskResponse, error) {
	kind := req.GetKind()
	if kind == taskv1.TaskKind_TASK_KIND_UNSPECIFIED {
		kind = taskv1.TaskKind_TASK_KIND_SERVICE
	}
	return &taskv1.RecordTaskResponse{Task: &taskv1.Task{
		Id: req.GetId(), Number: fmt.Sprintf("T-%06d", req.GetId()), Kind: kind, Title: req.GetTitle(),
		ContractId: req.GetContractId(), CustomerId: req.GetCustomerId(), RouteId: req.GetRouteId(), WorkflowId: taskflow.WorkflowID(req.GetId()),
		State: taskv1.TaskState_TASK_STATE_OPEN, CurrentProcess: &taskv1.Process{Id: 6, Name: "Diagnostics", GroupId: 5, Position: 1},
	}}, nil
}

// recorder serves the workflows on a dev server with a fake read model.
func recorder(t *testing.T) (client.Client, *readModel) {
	t.Helper()
	srv := devserver.Start(t, taskflow.SearchAttributeFlags()...)
	c := srv.Client()
	w := worker.New(c, "record", worker.Options{})
	model := &readModel{}
	runner.Register(w, &taskflow.Activities{Tasks: model, Contracts: effects{}, ContractActions: effects{}}, effects{})
	wizard.Register(w, &wizard.Activities{Customers: &wizardServices{}, Contracts: &wizardServices{}, Users: auth.NewForwarder(auth.NewKeyring([]byte("0123456789abcdef0123456789abcdef")), "worker")})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return c, model
}

// repair is the route the recorded service tasks run on.
var repair = taskflow.Route{ID: 2, Version: 1, Name: "Repair", Effect: taskv1.ContractEffect_CONTRACT_EFFECT_NONE, Processes: []taskflow.Process{
	{ID: 6, Name: "Diagnostics", GroupID: 5, SLASeconds: 1}, {ID: 7, Name: "Field repair", GroupID: 3}, {ID: 8, Name: "Confirmation", GroupID: 5},
}, Rules: []taskflow.Rule{{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE, ProcessID: 8, IdleSeconds: 2, Outcome: taskv1.TaskState_TASK_STATE_CLOSED}}}

var member = taskflow.Actor{UserID: 10, Name: "ann", Groups: []int64{1, 3, 5}}

// TestRecordServiceTaskCreatedByItsWorkflow records a service task whose
// workflow writes it (Update-with-Start; a retried create joins it), then
// runs its route to the end. Run it alone (-run) to keep the histories
// recorded before.
func TestRecordServiceTaskCreatedByItsWorkflow(t *testing.T) {
	c, _ := recorder(t)
	ctx := context.Background()
	tc := &taskflow.Client{Temporal: c, TaskQueue: "record"}
	in := taskflow.Input{TaskID: 103, Number: "T-000103", Kind: taskv1.TaskKind_TASK_KIND_SERVICE, ContractID: 3, CustomerID: 4, CreatedBy: 10, Route: repair,
		Create: &taskflow.NewTask{Title: "No signal", ContractNumber: "C-000003", CustomerName: "Anna", ActorName: "ann"}}
	made, err := tc.Create(ctx, in)
	if err != nil || made.GetId() != 103 {
		t.Fatalf("create: %v, %v", made, err)
	}
	if again, err := tc.Create(ctx, in); err != nil || again.GetId() != 103 {
		t.Fatalf("a retried create: %v, %v", again, err)
	}
	for _, p := range []int64{6, 7, 8} {
		if _, err := tc.Send(ctx, 103, taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.GetWorkflow(ctx, taskflow.WorkflowID(103), "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	save(t, c, taskflow.WorkflowID(103), "TaskWorkflow-created-by-workflow.json")
}

func TestRecordHistories(t *testing.T) {
	c, model := recorder(t)
	ctx := context.Background()
	in := taskflow.Input{TaskID: 101, Number: "T-000101", Kind: taskv1.TaskKind_TASK_KIND_SERVICE, ContractID: 3, CustomerID: 4, CreatedBy: 10, Route: repair}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskflow.WorkflowID(101), TaskQueue: "record"}, taskflow.TaskWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	tc := &taskflow.Client{Temporal: c, TaskQueue: "record"}
	time.Sleep(1500 * time.Millisecond) // past Diagnostics' SLA
	for _, cmd := range []struct {
		name string
		arg  any
	}{
		{taskflow.UpdateAssign, taskflow.Assign{Actor: member, ProcessID: 6}},
		{taskflow.UpdateComment, taskflow.Comment{Actor: member, Text: "line is down"}},
		{taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: 6, Comment: "needs a visit"}},
		{taskflow.UpdateReturn, taskflow.Return{Actor: member, ProcessID: 7, Comment: "check again"}},
		{taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: 6}},
		{taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: 7}},
	} {
		if _, err := tc.Send(ctx, 101, cmd.name, cmd.arg); err != nil {
			hist, _ := c.WorkflowService().GetWorkflowExecutionHistory(ctx, historyRequest(taskflow.WorkflowID(101)))
			for _, e := range hist.GetHistory().GetEvents() {
				if f := e.GetWorkflowTaskFailedEventAttributes(); f != nil {
					t.Log(f.GetFailure().GetMessage(), f.GetFailure().GetStackTrace())
				}
			}
			t.Fatalf("%s: %v", cmd.name, err)
		}
	}
	if err := run.Get(ctx, nil); err != nil { // closes by its idle rule
		t.Fatal(err)
	}
	save(t, c, taskflow.WorkflowID(101), "TaskWorkflow-repair-idle.json")

	start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: connection.WorkflowID(7), TaskQueue: "record", WorkflowIDConflictPolicy: 1}, connection.ConnectionWorkflow, connection.Input{ContractID: 7, CreatedBy: 10})
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start, UpdateOptions: client.UpdateWorkflowOptions{UpdateName: connection.UpdateTask, WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	var created *taskv1.Task
	if err := h.Get(ctx, &created); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int64{1, 2} {
		if _, err := tc.Send(ctx, created.GetId(), taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: p}); err != nil {
			t.Fatal(err)
		}
	}
	cw := c.GetWorkflow(ctx, connection.WorkflowID(7), "")
	if err := cw.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	save(t, c, connection.WorkflowID(7), "ConnectionWorkflow-activated.json")
	save(t, c, created.GetWorkflowId(), "TaskWorkflow-connection-child.json")

	// A comment whose step cannot be written marks the task stuck; a
	// retry once the read model is back heals it, and the task closes.
	in.TaskID, in.Number, in.Route.Rules = 102, "T-000102", nil
	stuck, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskflow.WorkflowID(102), TaskQueue: "record"}, taskflow.TaskWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	model.setDown(true)
	if _, err := tc.Send(ctx, 102, taskflow.UpdateComment, taskflow.Comment{Actor: member, Text: "lost"}); err == nil {
		t.Fatal("a comment whose step could not be written went through")
	}
	model.setDown(false)
	if _, err := tc.Send(ctx, 102, taskflow.UpdateRetry, taskflow.Retry{Actor: member}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int64{6, 7, 8} {
		if _, err := tc.Send(ctx, 102, taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := stuck.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	save(t, c, taskflow.WorkflowID(102), "TaskWorkflow-stuck-retried.json")
}

func save(t *testing.T, c client.Client, id, name string) {
	t.Helper()
	hist, err := c.WorkflowService().GetWorkflowExecutionHistory(context.Background(), historyRequest(id))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist.GetHistory())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRecordTariffChangeAction records a service task whose route ends
// with an automatic process: the manual ones are named by markers, the
// automatic one runs as the ContractChangeTariff activity and closes the
// task. Run it alone (-run).
func TestRecordTariffChangeAction(t *testing.T) {
	c, _ := recorder(t)
	ctx := context.Background()
	tc := &taskflow.Client{Temporal: c, TaskQueue: "record"}
	route := taskflow.Route{ID: 3, Version: 2, Name: "Tariff change", Processes: []taskflow.Process{
		{ID: 9, Name: "Request check", GroupID: 1}, {ID: 10, Name: "Billing change", GroupID: 5},
		{ID: 16, Name: "Tariff change", GroupID: 5, Action: &taskflow.Action{Kind: taskv1.ActionKind_ACTION_KIND_CONTRACT, Operation: taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF}},
	}}
	in := taskflow.Input{TaskID: 104, Number: "T-000104", Kind: taskv1.TaskKind_TASK_KIND_SERVICE, ContractID: 3, CustomerID: 4, CreatedBy: 10, Route: route,
		Params: taskflow.Params{TariffID: 2}, Create: &taskflow.NewTask{Title: "To Home 500", ContractNumber: "C-000003", CustomerName: "Anna", ActorName: "ann"}}
	if _, err := tc.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int64{9, 10} {
		if _, err := tc.Send(ctx, 104, taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.GetWorkflow(ctx, taskflow.WorkflowID(104), "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	save(t, c, taskflow.WorkflowID(104), "TaskWorkflow-tariff-change-action.json")
}

// CreateTask opens a follow-up's task.
func (r *readModel) CreateTask(_ context.Context, req *taskv1.CreateTaskRequest, _ ...grpc.CallOption) (*taskv1.CreateTaskResponse, error) {
	return &taskv1.CreateTaskResponse{Task: &taskv1.Task{Id: 105, Number: "T-000105", Kind: taskv1.TaskKind_TASK_KIND_SERVICE, Title: req.GetTitle(), ContractId: req.GetContractId(), RouteId: req.GetRouteId()}}, nil
}

// TestRecordFollowUp records a service task whose route has a follow-up:
// the task's workflow starts it as it closes, and the follow-up waits its
// minute, then opens its task. Run it alone (-run).
func TestRecordFollowUp(t *testing.T) {
	c, _ := recorder(t)
	ctx := context.Background()
	tc := &taskflow.Client{Temporal: c, TaskQueue: "record"}
	r := repair
	r.FollowUps = []taskflow.FollowUp{{RouteID: 9, AfterSeconds: 60, Title: "Welcome call", Description: "Ask how the line works"}}
	in := taskflow.Input{TaskID: 104, Number: "T-000104", Kind: taskv1.TaskKind_TASK_KIND_SERVICE, ContractID: 3, CustomerID: 4, CreatedBy: 10, Route: r,
		Create: &taskflow.NewTask{Title: "No signal", ContractNumber: "C-000003", CustomerName: "Anna", ActorName: "ann"}}
	if _, err := tc.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int64{6, 7, 8} {
		if _, err := tc.Send(ctx, 104, taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.GetWorkflow(ctx, taskflow.WorkflowID(104), "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var res taskflow.FollowUpResult
	if err := c.GetWorkflow(ctx, taskflow.FollowUpWorkflowID(104, 1), "").Get(ctx, &res); err != nil || res.TaskID != 105 {
		t.Fatalf("follow-up: %+v, %v", res, err)
	}
	save(t, c, taskflow.WorkflowID(104), "TaskWorkflow-follow-up-started.json")
	save(t, c, taskflow.FollowUpWorkflowID(104, 1), "FollowUpWorkflow-opened.json")
}
