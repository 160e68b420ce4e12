package task

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// ended opens a Repair task, moves it on once and closes it from its
// second process, as its workflow would.
func (f *fixture) ended(t *testing.T, how taskv1.TaskState) *taskv1.Task {
	t.Helper()
	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal", Priority: taskv1.TaskPriority_TASK_PRIORITY_HIGH})
	if err != nil {
		t.Fatal(err)
	}
	task := made.GetTask()
	first, second := task.GetProcesses()[0].GetId(), task.GetProcesses()[1].GetId()
	moved := step(task.GetId(), 2, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, second, first, "")
	end := step(task.GetId(), 3, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED, 0, second, "duplicate")
	end.State, end.CloseReason = how, "CANCELLED"
	for _, s := range []*taskv1.Transition{moved, end} {
		if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: s}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: task.GetId()})
	if err != nil || got.GetTask().GetState() != how {
		t.Fatalf("the ended task %v, %v", got.GetTask(), err)
	}
	return got.GetTask()
}

func TestAnEndedTaskIsReopenedWhereItEndedAndItsTimelineGoesOn(t *testing.T) {
	f := newFixture(t)
	task := f.ended(t, taskv1.TaskState_TASK_STATE_CANCELLED)
	second := task.GetProcesses()[1]
	if until := task.GetReopenUntil().AsTime().Sub(task.GetClosedAt().AsTime()); until != 14*24*time.Hour {
		t.Fatalf("an ended task may be reopened for %v", until)
	}

	if _, err := f.client.ReopenTask(operator(), &taskv1.ReopenTaskRequest{Id: task.GetId(), Reason: "  "}); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "why") {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := f.client.ReopenTask(operator(), &taskv1.ReopenTaskRequest{Id: task.GetId(), Reason: "x", ProcessId: 999}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a process of another route: %v", err)
	}
	// an engineer of another group may not; the process's group may
	stranger := servicetest.User(t.Context(), 8, servicetest.Operator, 4)
	if _, err := f.client.ReopenTask(stranger, &taskv1.ReopenTaskRequest{Id: task.GetId(), Reason: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("someone outside the group: %v", err)
	}
	member := servicetest.User(t.Context(), 9, servicetest.Operator, second.GetGroupId())
	resp, err := f.client.ReopenTask(member, &taskv1.ReopenTaskRequest{Id: task.GetId(), Reason: "the customer called back: no signal again"})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetTask()
	if got.GetState() != taskv1.TaskState_TASK_STATE_OPEN || got.GetCurrentProcess().GetId() != second.GetId() || got.GetCloseReason() != "" || got.GetClosedAt() != nil || got.GetReopenUntil() != nil {
		t.Fatalf("reopened %v", got)
	}
	in := f.flows.reopens[0]
	if in.TaskID != task.GetId() || in.Reopen.After != 3 || in.Reopen.ProcessID != second.GetId() || in.State.Sequence != 3 ||
		in.State.Outcome != taskv1.TaskState_TASK_STATE_CANCELLED || in.State.Position != 1 || in.State.Priority != taskv1.TaskPriority_TASK_PRIORITY_HIGH ||
		len(in.State.Groups) != 2 || in.Route.ID != 2 || len(in.Route.Processes) != len(task.GetProcesses()) {
		t.Fatalf("the run was started with %+v", in)
	}
	events, err := f.client.ListTaskEvents(operator(), &taskv1.ListTaskEventsRequest{TaskId: task.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	last := events.GetTaskEvents()[len(events.GetTaskEvents())-1]
	if len(events.GetTaskEvents()) != 4 || last.GetKind() != taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED || last.GetText() != "the customer called back: no signal again" {
		t.Fatalf("the timeline ends with %v", last)
	}

	if _, err := f.client.ReopenTask(operator(), &taskv1.ReopenTaskRequest{Id: task.GetId(), Reason: "again"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("reopening an open task: %v", err)
	}
}

func TestATaskIsReopenedOnlyWithinThePeriodAndNeverAConnection(t *testing.T) {
	f := newFixture(t)
	task := f.ended(t, taskv1.TaskState_TASK_STATE_CLOSED)
	long := time.Now().Add(-15 * 24 * time.Hour).UnixMicro()
	if err := f.server.store.db.Model(&taskRow{}).Where("id = ?", task.GetId()).Update("closed_at", long).Error; err != nil {
		t.Fatal(err)
	}
	_, err := f.client.ReopenTask(admin(), &taskv1.ReopenTaskRequest{Id: task.GetId(), Reason: "too late"})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "within 14 days") {
		t.Fatalf("15 days after: %v", err)
	}
	if late, err := f.client.GetTask(admin(), &taskv1.GetTaskRequest{Id: task.GetId()}); err != nil || late.GetTask().GetReopenUntil() != nil {
		t.Fatalf("15 days after, the task says it may be reopened until %v (%v)", late.GetTask().GetReopenUntil(), err)
	}

	made, err := f.client.CreateConnectionTask(worker(), &taskv1.CreateConnectionTaskRequest{ContractId: 12, WorkflowId: "connection-12", CreatedBy: 7})
	if err != nil {
		t.Fatal(err)
	}
	conn := made.GetTask()
	end := step(conn.GetId(), 2, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED, 0, conn.GetCurrentProcess().GetId(), "refused")
	end.State, end.Time = taskv1.TaskState_TASK_STATE_CANCELLED, timestamppb.Now()
	if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: end}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.ReopenTask(admin(), &taskv1.ReopenTaskRequest{Id: conn.GetId(), Reason: "x"}); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "service task") {
		t.Fatalf("a connection: %v", err)
	}
	if len(f.flows.reopens) != 0 {
		t.Fatalf("%d runs started for refusals", len(f.flows.reopens))
	}
}
