package task

import (
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// queued is a task as the priority order sees it.
type queued struct {
	id       int64
	priority taskv1.TaskPriority
	due      int64 // 0: no SLA
	group    int64
	assignee int64
	state    taskv1.TaskState
	title    string
}

// seedQueue writes tasks straight into the read model, ids as given.
func (f *fixture) seedQueue(t *testing.T, tasks []queued) {
	t.Helper()
	for _, q := range tasks {
		r := taskRow{
			ID: q.id, Number: taskNumber(q.id), Kind: int32(taskv1.TaskKind_TASK_KIND_SERVICE), State: int32(q.state),
			Title: q.title, RouteID: 2, RouteVersion: 1, RouteName: "Service", ProcessGroupID: q.group, ContractID: activeContract,
			ContractNumber: "C-000010", CustomerID: 3, CustomerName: "Иванов", AssigneeID: q.assignee, SLADueAt: q.due,
			CreatedAt: q.id, UpdatedAt: q.id, WorkflowID: fmt.Sprintf("task-%d", q.id), Sequence: 1,
			SearchLower: searchText(q.title, "Иванов"), Priority: int32(q.priority),
		}
		if err := f.server.store.db.Create(&r).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// listIDs pages through a listing, size tasks a page, and answers the ids
// in the order the pages gave them.
func listIDs(t *testing.T, f *fixture, req *taskv1.ListTasksRequest, size int32) []int64 {
	t.Helper()
	var ids []int64
	req.PageSize = size
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("the pages do not end")
		}
		resp, err := f.client.ListTasks(operator(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range resp.GetTasks() {
			ids = append(ids, task.GetId())
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return ids
		}
	}
}

// The priority order holds across pages of every size: the most urgent
// first, then the soonest SLA due with the tasks that have none last, then
// the oldest among equals; with each filter and with a search.
func TestThePriorityOrderPagesUrgentFirstThenSoonestDueThenOldest(t *testing.T) {
	f := newFixture(t)
	const (
		low, normal, high, urgent = taskv1.TaskPriority_TASK_PRIORITY_LOW, taskv1.TaskPriority_TASK_PRIORITY_NORMAL,
			taskv1.TaskPriority_TASK_PRIORITY_HIGH, taskv1.TaskPriority_TASK_PRIORITY_URGENT
		open, closed = taskv1.TaskState_TASK_STATE_OPEN, taskv1.TaskState_TASK_STATE_CLOSED
		me, other    = 7, 8
	)
	f.seedQueue(t, []queued{
		{101, normal, 0, 5, me, open, "Нет сигнала"},
		{102, urgent, 0, 5, 0, open, "Авария на улице"},
		{103, high, 3000, 5, me, open, "Авария в доме"},
		{104, normal, 1000, 5, other, open, "Роутер"},
		{105, urgent, 5000, 5, me, open, "Кабель"},
		{106, high, 3000, 5, 0, open, "Авария в подъезде"},
		{107, low, 500, 5, me, open, "Счёт"},
		{108, normal, 0, 5, 0, open, "Авария, перезвонить"},
		{109, urgent, 100, 6, me, open, "Другая группа"},
		{110, urgent, 200, 5, me, closed, "Закрыта"},
		{111, normal, 1000, 5, 0, open, "Роутер снова"},
	})
	priority := taskv1.TaskOrder_TASK_ORDER_PRIORITY
	for _, tc := range []struct {
		name string
		req  *taskv1.ListTasksRequest
		want []int64
	}{
		{"a group's open queue", &taskv1.ListTasksRequest{GroupId: 5, State: open, Order: priority}, []int64{105, 102, 103, 106, 104, 111, 101, 108, 107}},
		{"my open tasks", &taskv1.ListTasksRequest{Assignee: "me", State: open, Order: priority}, []int64{109, 105, 103, 101, 107}},
		{"every state", &taskv1.ListTasksRequest{GroupId: 5, Order: priority}, []int64{110, 105, 102, 103, 106, 104, 111, 101, 108, 107}},
		{"a search", &taskv1.ListTasksRequest{Query: "авария", State: open, Order: priority}, []int64{102, 103, 106, 108}},
		{"a search in my tasks", &taskv1.ListTasksRequest{Query: "авария", Assignee: "me", Order: priority}, []int64{103}},
		{"newest first unless asked", &taskv1.ListTasksRequest{GroupId: 5, State: open}, []int64{111, 108, 107, 106, 105, 104, 103, 102, 101}},
		{"newest first when asked", &taskv1.ListTasksRequest{Assignee: "me", State: open, Order: taskv1.TaskOrder_TASK_ORDER_NEWEST}, []int64{109, 107, 105, 103, 101}},
	} {
		for _, size := range []int32{1, 2, 3, 100} {
			t.Run(fmt.Sprintf("%s, %d a page", tc.name, size), func(t *testing.T) {
				if got := listIDs(t, f, tc.req, size); !slices.Equal(got, tc.want) {
					t.Fatalf("pages gave %v, want %v", got, tc.want)
				}
			})
		}
	}
}

// A page token belongs to its order: used with the other, or with another
// filter, it is a 400 about pageToken, never a page of another list.
func TestAPageTokenOfOneOrderIsRefusedForTheOther(t *testing.T) {
	f := newFixture(t)
	normal := taskv1.TaskPriority_TASK_PRIORITY_NORMAL
	f.seedQueue(t, []queued{
		{201, normal, 0, 5, 0, taskv1.TaskState_TASK_STATE_OPEN, "a"},
		{202, normal, 0, 5, 0, taskv1.TaskState_TASK_STATE_OPEN, "b"},
		{203, normal, 0, 5, 0, taskv1.TaskState_TASK_STATE_OPEN, "c"},
	})
	token := func(order taskv1.TaskOrder) string {
		t.Helper()
		resp, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{GroupId: 5, PageSize: 1, Order: order})
		if err != nil || resp.GetNextPageToken() == "" {
			t.Fatalf("the first page of %v: %v, %v", order, resp, err)
		}
		return resp.GetNextPageToken()
	}
	unspecified, newest, priority := taskv1.TaskOrder_TASK_ORDER_UNSPECIFIED, taskv1.TaskOrder_TASK_ORDER_NEWEST, taskv1.TaskOrder_TASK_ORDER_PRIORITY
	for _, tc := range []struct {
		name      string
		madeFor   taskv1.TaskOrder
		usedWith  *taskv1.ListTasksRequest
		wantValid bool
	}{
		{"newest's with priority", newest, &taskv1.ListTasksRequest{GroupId: 5, Order: priority}, false},
		{"priority's with newest", priority, &taskv1.ListTasksRequest{GroupId: 5, Order: newest}, false},
		{"priority's with none named", priority, &taskv1.ListTasksRequest{GroupId: 5}, false},
		{"priority's with another filter", priority, &taskv1.ListTasksRequest{GroupId: 5, AwaitingVisit: true, Order: priority}, false},
		{"none named's with newest", unspecified, &taskv1.ListTasksRequest{GroupId: 5, Order: newest}, true},
		{"priority's with priority", priority, &taskv1.ListTasksRequest{GroupId: 5, Order: priority}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.usedWith.PageToken = token(tc.madeFor)
			_, err := f.client.ListTasks(operator(), tc.usedWith)
			if tc.wantValid && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.wantValid && (status.Code(err) != codes.InvalidArgument || !slices.Equal(servicetest.Fields(err), []string{"pageToken"})) {
				t.Fatalf("%v (fields %v), want a 400 about pageToken", err, servicetest.Fields(err))
			}
		})
	}
	if _, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{Order: 9}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("an order that does not exist: %v, want InvalidArgument", err)
	}
}
