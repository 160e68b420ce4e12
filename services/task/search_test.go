package task

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

func TestTaskSearchFindsByNumberContractPhoneNameTitleAndComment(t *testing.T) {
	f := newFixture(t)
	f.contracts.byID[15] = &contractv1.Contract{Id: 15, Number: "C-000015", CustomerId: phoned, Status: contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE}
	create := func(contract int64, title string) int64 {
		t.Helper()
		resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: contract, RouteId: 2, Title: title})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetTask().GetId()
	}
	signal := create(activeContract, "Нет сигнала")
	router := create(15, "Замена роутёра")
	if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{
		Transition: step(signal, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, 0, 0, "Клиент просил перезвонить вечером"),
	}); err != nil {
		t.Fatal(err)
	}
	open := taskv1.TaskState_TASK_STATE_OPEN
	for _, tc := range []struct {
		query string
		state taskv1.TaskState
		want  []int64
	}{
		{"T-000001", 0, []int64{signal}},
		{"т1", 0, []int64{signal}},
		{"t 2", 0, []int64{router}},
		{"C-000015", 0, []int64{router}},
		{"с15", 0, []int64{router}},
		{"C-000010", open, []int64{signal}},
		{"45-67", 0, []int64{router}},
		{"+7 912 456", 0, []int64{router}},
		// a bare number is a task's too
		{"1", 0, []int64{signal}},
		{"елкина", 0, []int64{router}},
		{"РОУТЕР", 0, []int64{router}},
		{"роутёр", open, []int64{router}},
		{"перезвон", 0, []int64{signal}},
		{"нет сиг", 0, []int64{signal}},
		{"сигнал", taskv1.TaskState_TASK_STATE_CLOSED, nil},
		{"100%", 0, nil},
		{"T-000099", 0, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{Query: tc.query, State: tc.state})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, task := range resp.GetTasks() {
				got = append(got, task.GetId())
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("found %v, want %v", got, tc.want)
			}
		})
	}
	for _, q := range []string{"ab", "a b c"} {
		_, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{Query: q})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%q: %v, want InvalidArgument", q, err)
		}
	}
}

func TestTaskSearchPagesNewestFirst(t *testing.T) {
	f := newFixture(t)
	var ids []int64
	for i := 0; i < 5; i++ {
		resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: fmt.Sprintf("Авария %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]int64{resp.GetTask().GetId()}, ids...)
	}
	var got []int64
	token := ""
	for page := 0; page < 5; page++ {
		resp, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{Query: "авари", PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range resp.GetTasks() {
			got = append(got, task.GetId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("pages gave %v, want %v", got, ids)
	}
}
