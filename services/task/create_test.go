package task

import (
	"context"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// workflowStatus is the status of a task's workflow on the dev server.
func workflowStatus(t *testing.T, f *fixture, taskID int64) enumspb.WorkflowExecutionStatus {
	t.Helper()
	d, err := f.temporal.DescribeWorkflow(context.Background(), taskflow.WorkflowID(taskID), "")
	if err != nil {
		t.Fatal(err)
	}
	return d.RawResponse.GetWorkflowExecutionInfo().GetStatus()
}

func TestServiceTaskIsWrittenByItsWorkflowAndAnsweredAtItsFirstProcess(t *testing.T) {
	f := withWorkflows(t)
	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal"})
	if err != nil {
		t.Fatal(err)
	}
	task := made.GetTask()
	if p := task.GetCurrentProcess(); p.GetPosition() != 1 || p.GetName() != "Diagnostics" || task.GetNumber() != taskNumber(task.GetId()) || len(task.GetProcesses()) != 3 {
		t.Fatalf("answered %v", task)
	}
	got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: task.GetId()})
	if err != nil || got.GetTask().GetWorkflowId() != taskflow.WorkflowID(task.GetId()) || got.GetTask().GetCreatedBy() != 7 {
		t.Fatalf("the row: %v (%v)", got.GetTask(), err)
	}
	if s := workflowStatus(t, f, task.GetId()); s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("its workflow is %v", s)
	}
	events, err := f.client.ListTaskEvents(operator(), &taskv1.ListTaskEventsRequest{TaskId: task.GetId()})
	if err != nil || len(events.GetTaskEvents()) != 1 || events.GetTaskEvents()[0].GetKind() != taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED {
		t.Fatalf("timeline %v (%v)", events.GetTaskEvents(), err)
	}
}

func TestACreateRetriedWithTheSameIDJoinsTheFirstWorkflowAndMakesOneTask(t *testing.T) {
	f := withWorkflows(t)
	id, err := f.server.store.allocate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	route, def, err := f.server.routes.current(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	in := taskflow.Input{TaskID: id, Number: taskNumber(id), Kind: taskv1.TaskKind_TASK_KIND_SERVICE, ContractID: activeContract, CustomerID: 3, CreatedBy: 7,
		Route: taskflow.RouteFromProto(def.toProto(route, route.Version)), Create: &taskflow.NewTask{Title: "twice", ContractNumber: "C-000010", CustomerName: "Anna", ActorName: "ann"}}
	flows := &taskflow.Client{Temporal: f.temporal, TaskQueue: "tasks"}
	first, err := flows.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := flows.Create(context.Background(), in)
	if err != nil || again.GetId() != first.GetId() {
		t.Fatalf("the retry answered %v (%v), the first %v", again, err, first)
	}
	list, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{})
	if err != nil || len(list.GetTasks()) != 1 {
		t.Fatalf("tasks %v (%v)", list.GetTasks(), err)
	}
	if s := workflowStatus(t, f, id); s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("its workflow is %v", s)
	}
}

func TestACreateWhoseFirstWriteIsRefusedAnswers400AndLeavesNeitherRowNorRunningWorkflow(t *testing.T) {
	f := withWorkflows(t)
	_, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: longNamedContract, RouteId: 2, Title: "x"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	list, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{})
	if err != nil || len(list.GetTasks()) != 0 {
		t.Fatalf("tasks %v (%v)", list.GetTasks(), err)
	}
	// the first id a new database gives
	if s := workflowStatus(t, f, 1); s == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatal("its workflow still runs")
	}
}

// A task opened before its workflow wrote it: the row first, then the
// workflow started with the input of the time (no Create).
func TestAServiceTaskWrittenBeforeItsWorkflowStartedStillRunsToItsEnd(t *testing.T) {
	f := withWorkflows(t)
	ctx := context.Background()
	route, def, err := f.server.routes.current(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.server.store.allocate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	row, err := f.server.store.record(ctx, newTask{row: taskRow{
		ID: id, Kind: int32(taskv1.TaskKind_TASK_KIND_SERVICE), Title: "old", RouteID: route.ID, RouteVersion: route.Version, RouteName: def.Name,
		ContractID: activeContract, ContractNumber: "C-000010", CustomerID: 3, CustomerName: "Anna", CreatedBy: 7, CreatedAt: f.server.store.clock(),
	}, route: def, actor: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	old := taskflow.NewInput(row.toProto(), def.toProto(route, route.Version))
	run, err := f.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: taskflow.WorkflowID(id), TaskQueue: "tasks"}, taskflow.WorkflowName, old)
	if err != nil {
		t.Fatal(err)
	}
	manager := admin()
	for _, p := range def.Processes {
		if _, err := f.client.AdvanceTask(manager, &taskv1.AdvanceTaskRequest{Id: id, ProcessId: p.ID}); err != nil {
			t.Fatalf("advance from %s: %v", p.Name, err)
		}
	}
	var res taskflow.Result
	if err := run.Get(ctx, &res); err != nil || res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("ended %v (%v)", res, err)
	}
	got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: id})
	if err != nil || got.GetTask().GetState() != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("the row: %v (%v)", got.GetTask(), err)
	}
}
