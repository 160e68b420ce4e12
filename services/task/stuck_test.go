package task

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// temporalCLI finds the Temporal CLI that make builds (or CRM_TEMPORAL_BIN).
func temporalCLI(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("CRM_TEMPORAL_BIN"); bin != "" {
		return bin
	}
	matches, _ := filepath.Glob("../../.bin/temporal-*/temporal")
	if len(matches) == 0 {
		t.Fatal("no Temporal CLI: run make tools or set CRM_TEMPORAL_BIN")
	}
	return matches[0]
}

// withWorkflows serves the task service with its real workflows on a
// Temporal dev server, their steps written back through the service.
func withWorkflows(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: temporalCLI(t), LogLevel: "error", ExtraArgs: append([]string{"--headless"}, taskflow.SearchAttributeFlags()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dev.Stop() })
	f := newFixtureWith(t, &taskflow.Client{Temporal: dev.Client(), TaskQueue: "tasks"})
	w := sdkworker.New(dev.Client(), "tasks", sdkworker.Options{})
	w.RegisterWorkflowWithOptions(taskflow.TaskWorkflow, workflow.RegisterOptions{Name: taskflow.WorkflowName})
	w.RegisterActivity(&taskflow.Activities{Tasks: taskv1.NewTaskServiceClient(servicetest.DialAs(t, f.addr, "worker"))})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	f.temporal = dev.Client()
	return f
}

func TestAStepTheDatabaseCannotHoldIsRefusedWith400AndTheTaskGoesOn(t *testing.T) {
	f := withWorkflows(t)
	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal"})
	if err != nil {
		t.Fatal(err)
	}
	task := made.GetTask()
	for name, reason := range map[string]string{"an over-long reason": strings.Repeat("x", 600), "a NUL in the reason": "bad\x00reason"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(admin(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err := f.client.CancelTask(ctx, &taskv1.CancelTaskRequest{Id: task.GetId(), Reason: reason})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "reason") {
				t.Fatalf("cancel: %v, want InvalidArgument about the reason", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("the refusal took %v", took)
			}
		})
	}
	// a worker of another group (as a Telegram reply is sent, with the
	// replier's own groups) may not comment where they may not act
	stranger := servicetest.User(context.Background(), 8, servicetest.Operator, 3)
	if _, err := f.client.AddComment(stranger, &taskv1.AddCommentRequest{TaskId: task.GetId(), Text: "not my group"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a comment by a member of another group: %v, want PermissionDenied", err)
	}
	if _, err := f.client.AddComment(operator(), &taskv1.AddCommentRequest{TaskId: task.GetId(), Text: "still workable"}); err != nil {
		t.Fatalf("a comment after the refused steps: %v", err)
	}
	adv, err := f.client.AdvanceTask(operator(), &taskv1.AdvanceTaskRequest{Id: task.GetId(), ProcessId: task.GetCurrentProcess().GetId()})
	if err != nil {
		t.Fatalf("an advance after the refused steps: %v", err)
	}
	if got := adv.GetTask(); got.GetState() != taskv1.TaskState_TASK_STATE_OPEN || got.GetCurrentProcess().GetName() != "Field repair" || got.GetStuck() {
		t.Fatalf("after the advance the task is %v", got)
	}
}

func TestStuckMarksShowOnTheTaskInTheStuckListAndInTheMetric(t *testing.T) {
	f := newFixture(t)
	var ids []int64
	for range 2 {
		made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, made.GetTask().GetId())
	}
	stuckID := ids[1]
	now := time.Now()
	mark := func(stuck bool, at time.Time, reason string) {
		t.Helper()
		if _, err := f.client.SetTaskStuck(worker(), &taskv1.SetTaskStuckRequest{TaskId: stuckID, Stuck: stuck, Reason: reason, Time: timestamppb.New(at)}); err != nil {
			t.Fatal(err)
		}
	}
	stuckList := func() []int64 {
		t.Helper()
		resp, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{Stuck: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, x := range resp.GetTasks() {
			out = append(out, x.GetId())
		}
		return out
	}
	metric := newStuckCollector(f.server.store.countStuck, servicetest.Logger())

	mark(true, now, "Unavailable: connection refused")
	got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: stuckID})
	if err != nil {
		t.Fatal(err)
	}
	if tk := got.GetTask(); !tk.GetStuck() || tk.GetStuckReason() != "Unavailable: connection refused" || tk.GetStuckSince() == nil {
		t.Fatalf("the stuck task reads %v", tk)
	}
	if l := stuckList(); !slices.Equal(l, []int64{stuckID}) {
		t.Fatalf("stuck list %v, want only %d", l, stuckID)
	}
	if n := testutil.ToFloat64(metric); n != 1 {
		t.Fatalf("metric %v, want 1", n)
	}
	mark(false, now.Add(-time.Second), "") // a late retry of an older write
	if l := stuckList(); len(l) != 1 {
		t.Fatalf("an older mark cleared the newer: %v", l)
	}
	mark(false, now.Add(time.Second), "")
	if l := stuckList(); len(l) != 0 || testutil.ToFloat64(metric) != 0 {
		t.Fatalf("after the clear: list %v, metric %v", l, testutil.ToFloat64(metric))
	}
	if _, err := f.client.SetTaskStuck(admin(), &taskv1.SetTaskStuckRequest{TaskId: stuckID, Stuck: true, Time: timestamppb.Now()}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a user marked a task stuck: %v", err)
	}
}

func TestACommandOnAStuckTaskIsAnswered503AtOnceAndARefusedStep400(t *testing.T) {
	f := newFixture(t)
	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	id := made.GetTask().GetId()
	for _, tc := range []struct {
		kind, msg string
		code      codes.Code
	}{
		{taskflow.ErrStuck, "task T-000001 is stuck: its last step could not be written; an engineer has been told", codes.Unavailable},
		{taskflow.ErrRefused, "the reason is 600 characters long; at most 500 fit", codes.InvalidArgument},
	} {
		f.flows.mu.Lock()
		f.flows.refusal = temporal.NewApplicationError(tc.msg, tc.kind)
		f.flows.mu.Unlock()
		_, err := f.client.AdvanceTask(operator(), &taskv1.AdvanceTaskRequest{Id: id, ProcessId: made.GetTask().GetCurrentProcess().GetId()})
		if status.Code(err) != tc.code || status.Convert(err).Message() != tc.msg {
			t.Errorf("%s: %v, want %v %q", tc.kind, err, tc.code, tc.msg)
		}
	}
}

func TestAssignNamesTheProcessTheCallerSaw(t *testing.T) {
	f := newFixture(t)
	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.AssignTask(operator(), &taskv1.AssignTaskRequest{Id: made.GetTask().GetId(), UserId: 9})
	if status.Code(err) != codes.InvalidArgument || f.flows.sent() != 0 {
		t.Fatalf("an assign without the process: %v (%d sent)", err, f.flows.sent())
	}
}

func TestCommentsWithTheCustomerAreMarkedAndOnlyTheCustomersChannelWritesTheirs(t *testing.T) {
	f := withWorkflows(t)
	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal"})
	if err != nil {
		t.Fatal(err)
	}
	id := made.GetTask().GetId()
	if _, err := f.client.AddComment(operator(), &taskv1.AddCommentRequest{TaskId: id, Text: "forged", Audience: taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a user writing as the customer: %v, want PermissionDenied", err)
	}
	// the notifier is in no group, yet writes the customer's words
	notifier := servicetest.Service(context.Background(), "notifier")
	theirs, err := f.client.AddComment(notifier, &taskv1.AddCommentRequest{TaskId: id, Text: "still no signal", Audience: taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER})
	if err != nil {
		t.Fatal(err)
	}
	if c := theirs.GetComment(); c.GetAudience() != taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER || c.GetAuthorName() != made.GetTask().GetCustomerName() {
		t.Fatalf("the customer's comment %v; want it marked and signed with the customer's name %q", c, made.GetTask().GetCustomerName())
	}
	if _, err := f.client.AddComment(notifier, &taskv1.AddCommentRequest{TaskId: id, Text: "staff words"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("the notifier commenting among staff: %v, want PermissionDenied", err)
	}
	ours, err := f.client.AddComment(operator(), &taskv1.AddCommentRequest{TaskId: id, Text: "a technician comes tomorrow", Audience: taskv1.CommentAudience_COMMENT_AUDIENCE_TO_CUSTOMER})
	if err != nil {
		t.Fatal(err)
	}
	if ours.GetComment().GetAudience() != taskv1.CommentAudience_COMMENT_AUDIENCE_TO_CUSTOMER {
		t.Fatalf("the answer %v", ours.GetComment())
	}
	list, err := f.client.ListComments(operator(), &taskv1.ListCommentsRequest{TaskId: id})
	if err != nil {
		t.Fatal(err)
	}
	var marks []taskv1.CommentAudience
	for _, c := range list.GetComments() {
		marks = append(marks, c.GetAudience())
	}
	if len(marks) != 2 || marks[0] != taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER || marks[1] != taskv1.CommentAudience_COMMENT_AUDIENCE_TO_CUSTOMER {
		t.Fatalf("the comments' marks %v", marks)
	}
}
