package taskflow

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/idempotency"
)

// opener stands in for the task service's CreateTask: it records what it
// was asked and under which key, and answers fail first, while set.
type opener struct {
	*readModel
	mu    sync.Mutex
	asked []*taskv1.CreateTaskRequest
	keys  []string
	fail  []error
}

func (o *opener) CreateTask(ctx context.Context, req *taskv1.CreateTaskRequest, _ ...grpc.CallOption) (*taskv1.CreateTaskResponse, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	md, _ := metadata.FromOutgoingContext(ctx)
	o.asked = append(o.asked, req)
	o.keys = append(o.keys, md.Get(idempotency.Header)...)
	if len(o.fail) > 0 {
		err := o.fail[0]
		o.fail = o.fail[1:]
		return nil, err
	}
	return &taskv1.CreateTaskResponse{Task: &taskv1.Task{Id: 40, Number: "T-000040"}}, nil
}

const week = 7 * 24 * time.Hour

var welcome = FollowUp{RouteID: 7, AfterSeconds: int64(week / time.Second), Title: "Welcome call", Description: "Ask how the line works"}

func TestAClosedTaskStartsItsFollowUpsAndACancelledOneStartsNone(t *testing.T) {
	for name, c := range map[string]struct {
		cancel bool
		want   int
	}{
		"closed by completing the route": {want: 2},
		"cancelled":                      {cancel: true},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			var (
				started []FollowUpInput
				ids     []string
			)
			h.env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in FollowUpInput) (FollowUpResult, error) {
				started = append(started, in)
				ids = append(ids, workflow.GetInfo(ctx).WorkflowExecution.ID)
				return FollowUpResult{}, nil
			}, workflow.RegisterOptions{Name: FollowUpWorkflowName})
			r := route()
			second := FollowUp{RouteID: 8, AfterSeconds: 3600, Title: "Check the bill"}
			r.FollowUps = []FollowUp{welcome, second}
			if c.cancel {
				h.send(time.Minute, UpdateCancel, Cancel{Actor: member, Reason: "customer moved"})
			} else {
				for i, p := range []int64{21, 22, 23} {
					h.send(time.Duration(i+1)*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: p})
				}
			}
			h.run(h.input(r))
			if len(started) != c.want {
				t.Fatalf("%d follow-ups started, want %d: %+v", len(started), c.want, started)
			}
			if c.want == 0 {
				return
			}
			first := started[0]
			if ids[0] != "followup-7-1" || ids[1] != "followup-7-2" || first.Key != ids[0] {
				t.Fatalf("workflow ids %v, key %q", ids, first.Key)
			}
			if first.TaskID != 7 || first.ContractID != 3 || first.FollowUp != welcome || started[1].FollowUp != second {
				t.Fatalf("inputs %+v", started)
			}
			if want := h.env.Now(); first.ClosedAt.After(want) || first.ClosedAt.Before(want.Add(-time.Minute)) {
				t.Fatalf("closed at %v, the close was at about %v", first.ClosedAt, want)
			}
		})
	}
}

func followUpHarness(t *testing.T, fail ...error) (*harness, *opener) {
	o := &opener{readModel: &readModel{}, fail: fail}
	h := newHarnessWithActivities(t, &effects{}, func(a *Activities) { a.Tasks = o })
	return h, o
}

func runFollowUp(t *testing.T, h *harness) (FollowUpResult, time.Duration) {
	t.Helper()
	start := h.env.Now()
	h.env.ExecuteWorkflow(FollowUpWorkflow, FollowUpInput{TaskID: 7, Number: "T-000007", ContractID: 3, ClosedAt: start, FollowUp: welcome, Key: "followup-7-1"})
	if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
		t.Fatalf("follow-up workflow: completed %v, %v", h.env.IsWorkflowCompleted(), h.env.GetWorkflowError())
	}
	var res FollowUpResult
	if err := h.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res, h.env.Now().Sub(start)
}

func TestAFollowUpOpensItsTaskWhenDueOnceUnderItsKey(t *testing.T) {
	h, o := followUpHarness(t, status.Error(codes.Unavailable, "task service restarting"))
	res, waited := runFollowUp(t, h)
	if waited < week {
		t.Fatalf("opened after %v, want a week", waited)
	}
	if res.TaskID != 40 || res.Number != "T-000040" || res.NotOpened != "" {
		t.Fatalf("result %+v", res)
	}
	if len(o.asked) != 2 || o.keys[0] != "followup-7-1" || o.keys[1] != o.keys[0] {
		t.Fatalf("asked %d times under keys %v: a retry goes under the same key", len(o.asked), o.keys)
	}
	req := o.asked[1]
	if req.GetContractId() != 3 || req.GetRouteId() != 7 || req.GetTitle() != "Welcome call" || req.GetDescription() != "Ask how the line works" {
		t.Fatalf("request %v", req)
	}
}

func TestAFollowUpTheTaskServiceRefusesOpensNothingAndSaysWhy(t *testing.T) {
	h, o := followUpHarness(t, status.Error(codes.InvalidArgument, "contract C-000003 is TERMINATED; service tasks are opened on active or suspended contracts"))
	res, _ := runFollowUp(t, h)
	if res.TaskID != 0 || res.NotOpened != "contract C-000003 is TERMINATED; service tasks are opened on active or suspended contracts" {
		t.Fatalf("result %+v", res)
	}
	if len(o.asked) != 1 {
		t.Fatalf("asked %d times; a refusal is not retried", len(o.asked))
	}
}
