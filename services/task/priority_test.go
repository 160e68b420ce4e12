package task

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// A task opened as high is listed high, with the share of its route's SLA
// for high tasks; its workflow's later step changes it, and a step of a
// workflow older than priorities (none given) leaves it as it is.
func TestAPriorityIsChosenAtCreationShortensTheSLAAndFollowsTheSteps(t *testing.T) {
	f := newFixture(t)
	r, err := f.client.CreateRoute(admin(), &taskv1.CreateRouteRequest{Route: &taskv1.Route{
		Name: "Outage", Processes: []*taskv1.Process{{Name: "Restore", GroupId: 5, SlaSeconds: 4 * 3600}}, HighSlaPercent: 50, UrgentSlaPercent: 25,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.GetRoute(); got.GetHighSlaPercent() != 50 || got.GetUrgentSlaPercent() != 25 {
		t.Fatalf("the route keeps its shares: %v", got)
	}
	high, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: r.GetRoute().GetId(), Title: "Street down", Priority: taskv1.TaskPriority_TASK_PRIORITY_HIGH})
	if err != nil {
		t.Fatal(err)
	}
	task := high.GetTask()
	if task.GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_HIGH {
		t.Fatalf("priority %v", task.GetPriority())
	}
	if sla := task.GetSlaDueAt().AsTime().Sub(task.GetCreateTime().AsTime()); sla != 2*time.Hour {
		t.Fatalf("a high task's SLA is %v, want half of 4 h", sla)
	}
	plain, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: r.GetRoute().GetId(), Title: "One flat"})
	if err != nil || plain.GetTask().GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_NORMAL {
		t.Fatalf("a task opened with no priority: %v, %v", plain.GetTask(), err)
	}

	restore := task.GetCurrentProcess().GetId()
	changed := step(task.GetId(), 2, taskv1.TaskEventKind_TASK_EVENT_KIND_PRIORITY_CHANGED, restore, 0, "urgent")
	changed.Priority, changed.Comment = taskv1.TaskPriority_TASK_PRIORITY_URGENT, false
	old := step(task.GetId(), 3, taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, restore, 0, "on my way")
	for _, s := range []*taskv1.Transition{changed, old} {
		if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: s}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: task.GetId()})
	if err != nil || got.GetTask().GetPriority() != taskv1.TaskPriority_TASK_PRIORITY_URGENT {
		t.Fatalf("after the change and an older workflow's step: %v, %v", got.GetTask().GetPriority(), err)
	}

	if _, err := f.client.SetTaskPriority(operator(), &taskv1.SetTaskPriorityRequest{Id: task.GetId(), Priority: taskv1.TaskPriority_TASK_PRIORITY_LOW}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an operator set a priority: %v", err)
	}
	for _, bad := range []taskv1.TaskPriority{taskv1.TaskPriority_TASK_PRIORITY_UNSPECIFIED, 9} {
		if _, err := f.client.SetTaskPriority(admin(), &taskv1.SetTaskPriorityRequest{Id: task.GetId(), Priority: bad}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("priority %d: %v, want InvalidArgument", bad, err)
		}
	}
	if _, err := f.client.UpdateRoute(admin(), &taskv1.UpdateRouteRequest{Route: &taskv1.Route{Id: r.GetRoute().GetId(), Name: "Outage", Processes: r.GetRoute().GetProcesses(), UrgentSlaPercent: 101}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a share over 100 per cent: %v", err)
	}
}
