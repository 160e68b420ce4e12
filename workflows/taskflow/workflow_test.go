package taskflow

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// readModel stands in for the task service: it records every step the
// workflow writes, and the stuck marks. refuse, when set, answers a step
// with an error instead of writing it.
type readModel struct {
	taskv1.TaskServiceClient
	mu     sync.Mutex
	steps  []*taskv1.Transition
	marks  []bool
	refuse func(*taskv1.Transition) error
	down   bool
	tries  int
	// recorded counts the tasks their runs wrote (RecordTask).
	recorded int
}

func (r *readModel) RecordTask(_ context.Context, req *taskv1.RecordTaskRequest, _ ...grpc.CallOption) (*taskv1.RecordTaskResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recorded++
	return &taskv1.RecordTaskResponse{Task: &taskv1.Task{Id: req.GetId(), Title: req.GetTitle()}}, nil
}

func (r *readModel) created() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recorded
}

func (r *readModel) ApplyTransition(_ context.Context, req *taskv1.ApplyTransitionRequest, _ ...grpc.CallOption) (*taskv1.ApplyTransitionResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := req.GetTransition()
	r.tries++
	if r.down {
		return nil, status.Error(codes.Unavailable, "connection refused")
	}
	if r.refuse != nil {
		if err := r.refuse(t); err != nil {
			return nil, err
		}
	}
	r.steps = append(r.steps, t)
	return &taskv1.ApplyTransitionResponse{Task: &taskv1.Task{Id: t.GetTaskId(), State: t.GetState(), CurrentProcess: &taskv1.Process{Id: t.GetProcessId()}}}, nil
}

func (r *readModel) SetTaskStuck(_ context.Context, req *taskv1.SetTaskStuckRequest, _ ...grpc.CallOption) (*taskv1.SetTaskStuckResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return nil, status.Error(codes.Unavailable, "connection refused")
	}
	r.marks = append(r.marks, req.GetStuck())
	return &taskv1.SetTaskStuckResponse{}, nil
}

func (r *readModel) kinds() []taskv1.TaskEventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []taskv1.TaskEventKind
	for _, s := range r.steps {
		out = append(out, s.GetKind())
	}
	return out
}

func (r *readModel) last() *taskv1.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.steps[len(r.steps)-1]
}

type effects struct {
	mu      sync.Mutex
	applied []taskv1.ContractEffect
}

func (e *effects) Apply(_ context.Context, _ int64, effect taskv1.ContractEffect) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.applied = append(e.applied, effect)
	return nil
}

const (
	sales, installers, support int64 = 1, 3, 5
	hour                             = int64(time.Hour / time.Second)
)

var (
	member  = Actor{UserID: 10, Name: "ann", Groups: []int64{sales, installers, support}}
	outside = Actor{UserID: 11, Name: "bob", Groups: []int64{4}}
	manager = Actor{UserID: 12, Name: "sue", CanManage: true}
)

func route(rules ...Rule) Route {
	return Route{ID: 2, Version: 1, Name: "Repair", Processes: []Process{
		{ID: 21, Name: "Diagnostics", GroupID: support},
		{ID: 22, Name: "Field repair", GroupID: installers, SLASeconds: 4 * hour},
		{ID: 23, Name: "Confirmation", GroupID: support},
	}, Rules: append([]Rule{{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_ROUTE_COMPLETED, Outcome: taskv1.TaskState_TASK_STATE_CLOSED}}, rules...)}
}

type harness struct {
	env     *testsuite.TestWorkflowEnvironment
	model   *readModel
	effects *effects
	t       *testing.T
}

func newHarness(t *testing.T) *harness {
	return newHarnessWith(t, &effects{})
}

// newHarnessWith runs the workflow against these contract effects.
func newHarnessWith(t *testing.T, e ContractEffects) *harness {
	return newHarnessWithActivities(t, e, func(*Activities) {})
}

// newHarnessWithActivities runs the workflow against these contract
// effects and the actions' targets set by with.
func newHarnessWithActivities(t *testing.T, e ContractEffects, with func(*Activities)) *harness {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h := &harness{env: suite.NewTestWorkflowEnvironment(), model: &readModel{}, t: t}
	if fx, ok := e.(*effects); ok {
		h.effects = fx
	}
	acts := &Activities{Tasks: h.model, Contracts: e}
	with(acts)
	h.env.RegisterActivity(acts)
	return h
}

func (h *harness) input(r Route) Input {
	return Input{TaskID: 7, Number: "T-000007", Kind: taskv1.TaskKind_TASK_KIND_SERVICE, ContractID: 3, CustomerID: 4, CreatedBy: member.UserID, Route: r}
}

// send schedules an update at a moment of workflow time and records how it
// ended.
func (h *harness) send(at time.Duration, name string, arg any) *outcome {
	o := &outcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { o.rejected = err },
			OnComplete: func(_ any, err error) { o.done, o.failed = true, err },
		}, arg)
	}, at)
	return o
}

type outcome struct {
	done     bool
	rejected error
	failed   error
}

func (o *outcome) refusedAs(kind string) bool {
	var app *temporal.ApplicationError
	err := o.rejected
	if err == nil {
		err = o.failed
	}
	return errors.As(err, &app) && app.Type() == kind
}

func (h *harness) run(in Input) Result {
	h.t.Helper()
	h.env.ExecuteWorkflow(TaskWorkflow, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("the workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var res Result
	if err := h.env.GetWorkflowResult(&res); err != nil {
		h.t.Fatal(err)
	}
	return res
}

func TestTaskWalksTheRouteAndClosesWhenTheLastProcessIsCompleted(t *testing.T) {
	h := newHarness(t)
	a1 := h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21, Comment: "checked the line"})
	a2 := h.send(2*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	a3 := h.send(3*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 23, Comment: "customer confirms"})
	res := h.run(h.input(route()))

	if !a1.done || !a2.done || !a3.done || a1.failed != nil || a2.failed != nil || a3.failed != nil {
		t.Fatalf("advances: %+v %+v %+v", a1, a2, a3)
	}
	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED || res.Reason != "ROUTE_COMPLETED" {
		t.Fatalf("result %+v", res)
	}
	want := []taskv1.TaskEventKind{taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED}
	if got := h.model.kinds(); !equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	first := h.model.steps[0]
	if first.GetSequence() != 2 || first.GetFromProcessId() != 21 || first.GetProcessId() != 22 || !first.GetComment() || first.GetText() != "checked the line" {
		t.Fatalf("first step %v", first)
	}
	if g := first.GetNotifyGroupIds(); !equal(g, []int64{support, installers}) {
		t.Fatalf("first step notifies %v, want the group left and the group entered", g)
	}
	closed := h.model.last()
	if closed.GetState() != taskv1.TaskState_TASK_STATE_CLOSED || closed.GetFromProcessId() != 23 || !equal(closed.GetNotifyGroupIds(), []int64{support, installers}) {
		t.Fatalf("close step %v", closed)
	}
}

func TestCommandsThatDoNotApplyAreRefusedAndChangeNothing(t *testing.T) {
	h := newHarness(t)
	stale := h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	stranger := h.send(2*time.Minute, UpdateAdvance, Advance{Actor: outside, ProcessID: 21})
	emptyReturn := h.send(3*time.Minute, UpdateReturn, Return{Actor: member, ProcessID: 21, Comment: "x"})
	noComment := h.send(4*time.Minute, UpdateReturn, Return{Actor: member, ProcessID: 21})
	strangerCancel := h.send(5*time.Minute, UpdateCancel, Cancel{Actor: outside, Reason: "nope"})
	strangerAssignee := h.send(6*time.Minute, UpdateAssign, Assign{Actor: member, ProcessID: 21, UserID: 99})
	strangerComment := h.send(6*time.Minute+time.Second, UpdateComment, Comment{Actor: outside, Text: "not my group"})
	managerAdvance := h.send(7*time.Minute, UpdateAdvance, Advance{Actor: manager, ProcessID: 21})
	forward := h.send(8*time.Minute, UpdateReturn, Return{Actor: member, ProcessID: 22, ToProcessID: 23, Comment: "x"})
	h.send(9*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "duplicate request"})
	res := h.run(h.input(route()))

	for name, c := range map[string]struct {
		o    *outcome
		kind string
	}{
		"advance from a process the task has left": {stale, ErrMoved},
		"advance by a user outside the group":      {stranger, ErrNotMember},
		"return from the first process":            {emptyReturn, ErrInvalid},
		"return without a comment":                 {noComment, ErrInvalid},
		"cancel by a stranger":                     {strangerCancel, ErrNotMember},
		"assign to someone outside the group":      {strangerAssignee, ErrInvalid},
		"comment by a user outside the group":      {strangerComment, ErrNotMember},
		"return to a later process":                {forward, ErrInvalid},
	} {
		if !c.o.refusedAs(c.kind) {
			t.Errorf("%s: %+v, want refusal %s", name, c.o, c.kind)
		}
	}
	if !managerAdvance.done || managerAdvance.failed != nil {
		t.Errorf("a manager may act outside their groups: %+v", managerAdvance)
	}
	want := []taskv1.TaskEventKind{taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED}
	if got := h.model.kinds(); !equal(got, want) {
		t.Fatalf("steps %v, want only the manager's advance and the cancel", got)
	}
	if res.Outcome != taskv1.TaskState_TASK_STATE_CANCELLED || res.Reason != "duplicate request" {
		t.Fatalf("result %+v", res)
	}
}

func TestReturnGoesBackWithItsCommentAndTheTaskGoesOnFromThere(t *testing.T) {
	h := newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(2*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	back := h.send(3*time.Minute, UpdateReturn, Return{Actor: member, ProcessID: 23, ToProcessID: 21, Comment: "diagnose again"})
	h.send(4*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(5*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	h.send(6*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 23})
	res := h.run(h.input(route()))
	if !back.done || back.failed != nil {
		t.Fatalf("return: %+v", back)
	}
	ret := h.model.steps[2]
	if ret.GetKind() != taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED || ret.GetProcessId() != 21 || ret.GetFromProcessId() != 23 || ret.GetText() != "diagnose again" || !ret.GetComment() {
		t.Fatalf("return step %v", ret)
	}
	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED || len(h.model.steps) != 6 {
		t.Fatalf("result %+v after %d steps", res, len(h.model.steps))
	}
}

func TestResolutionRuleClosesWithItsOutcomeAtOnce(t *testing.T) {
	h := newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21, Resolution: "Customer_Refused", Comment: "does not want it"})
	res := h.run(h.input(route(Rule{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_RESOLUTION, Resolution: "customer_refused", Outcome: taskv1.TaskState_TASK_STATE_CANCELLED})))
	if res.Outcome != taskv1.TaskState_TASK_STATE_CANCELLED || res.Reason != "RESOLUTION:Customer_Refused" {
		t.Fatalf("result %+v", res)
	}
	if got := h.model.kinds(); !equal(got, []taskv1.TaskEventKind{taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED}) {
		t.Fatalf("steps %v", got)
	}
}

func TestIdleRuleClosesATaskNobodyTouchedAndACommentPostponesIt(t *testing.T) {
	h := newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(2*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	// in Confirmation now; the idle rule is 72 h there; a comment at 48 h
	// moves the deadline to 120 h.
	h.send(48*time.Hour, UpdateComment, Comment{Actor: member, Text: "called, no answer"})
	start := h.env.Now()
	res := h.run(h.input(route(Rule{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE, ProcessID: 23, IdleSeconds: 72 * hour, Outcome: taskv1.TaskState_TASK_STATE_CLOSED})))
	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED || res.Reason != "IDLE" {
		t.Fatalf("result %+v", res)
	}
	closed := h.model.last()
	if got := closed.GetTime().AsTime().Sub(start); got < 119*time.Hour || got > 121*time.Hour {
		t.Fatalf("closed %v after start, want 72 h after the comment at 48 h", got)
	}
}

func TestSLABreachIsRecordedOnceAndToldToSupervisors(t *testing.T) {
	h := newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	// Field repair has a 4 h SLA; it is completed after 10 h.
	h.send(10*time.Hour, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	h.send(11*time.Hour, UpdateAdvance, Advance{Actor: member, ProcessID: 23})
	h.run(h.input(route()))
	var breaches []*taskv1.Transition
	for _, s := range h.model.steps {
		if s.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED {
			breaches = append(breaches, s)
		}
	}
	if len(breaches) != 1 {
		t.Fatalf("%d breach steps, want 1", len(breaches))
	}
	b := breaches[0]
	if !b.GetNotifySupervisors() || !equal(b.GetNotifyGroupIds(), []int64{installers}) || !b.GetSlaBreached() || b.GetProcessId() != 22 {
		t.Fatalf("breach step %v", b)
	}
	if next := h.model.steps[2]; next.GetSlaBreached() {
		t.Fatalf("the next process starts with a fresh SLA: %v", next)
	}
}

func TestCreatorMayCancelInTheFirstProcessOnly(t *testing.T) {
	h := newHarness(t)
	ok := h.send(time.Minute, UpdateCancel, Cancel{Actor: Actor{UserID: member.UserID}, Reason: "opened by mistake"})
	res := h.run(h.input(route()))
	if !ok.done || ok.failed != nil || res.Outcome != taskv1.TaskState_TASK_STATE_CANCELLED {
		t.Fatalf("cancel %+v, result %+v", ok, res)
	}

	h = newHarness(t)
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	late := h.send(2*time.Minute, UpdateCancel, Cancel{Actor: Actor{UserID: member.UserID}, Reason: "changed my mind"})
	h.send(3*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "end the test"})
	h.run(h.input(route()))
	if !late.refusedAs(ErrNotMember) {
		t.Fatalf("creator's cancel after the first process: %+v", late)
	}
}

func TestServiceTaskClosedAppliesItsRoutesContractEffect(t *testing.T) {
	h := newHarness(t)
	for i, p := range []int64{21, 22, 23} {
		h.send(time.Duration(i+1)*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: p})
	}
	r := route()
	r.Effect = taskv1.ContractEffect_CONTRACT_EFFECT_TERMINATE
	h.run(h.input(r))
	if !equal(h.effects.applied, []taskv1.ContractEffect{taskv1.ContractEffect_CONTRACT_EFFECT_TERMINATE}) {
		t.Fatalf("effects %v", h.effects.applied)
	}
}

func TestAssignTakesTheTaskAndANewProcessClearsTheAssignee(t *testing.T) {
	h := newHarness(t)
	take := h.send(time.Minute, UpdateAssign, Assign{Actor: member, ProcessID: 21})
	h.send(2*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(3*time.Minute, UpdateCancel, Cancel{Actor: manager, Reason: "done testing"})
	h.run(h.input(route()))
	if !take.done || take.failed != nil {
		t.Fatalf("take %+v", take)
	}
	if s := h.model.steps[0]; s.GetKind() != taskv1.TaskEventKind_TASK_EVENT_KIND_ASSIGNED || s.GetAssigneeId() != member.UserID {
		t.Fatalf("assign step %v", s)
	}
	if s := h.model.steps[1]; s.GetAssigneeId() != 0 {
		t.Fatalf("after advancing the assignee is %d, want none", s.GetAssigneeId())
	}
}

func TestLongLivedTaskContinuesAsNewWithItsState(t *testing.T) {
	h := newHarness(t)
	old := stepLimit
	stepLimit = 1
	t.Cleanup(func() { stepLimit = old })
	h.send(time.Minute, UpdateAssign, Assign{Actor: member, ProcessID: 21})
	h.send(2*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.env.ExecuteWorkflow(TaskWorkflow, h.input(route()))
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next Input
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	// it continued after the first command, carrying what happened
	if next.State.Sequence != 2 || next.State.AssigneeID != member.UserID || next.TaskID != 7 || len(next.Route.Processes) != 3 {
		t.Fatalf("carried input %+v", next)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Each search attribute upsert is an event and a visibility write on the
// cluster: a step sends only what it changed, a comment nothing.
func TestStepsUpsertOnlyTheSearchAttributesTheyChange(t *testing.T) {
	h := newHarness(t)
	r := route()
	start := &taskv1.Task{Id: 7, Number: "T-000007", CustomerId: 4, ContractId: 3, RouteId: r.ID, CurrentProcess: &taskv1.Process{Name: r.Processes[0].Name, GroupId: r.Processes[0].GroupID}}
	if err := h.env.SetTypedSearchAttributesOnStart(InitialSearchAttributes(start)); err != nil {
		t.Fatal(err)
	}
	moved := func(p Process) temporal.SearchAttributes {
		return temporal.NewSearchAttributes(AttrProcess.ValueSet(p.Name), AttrGroup.ValueSet(p.GroupID))
	}
	h.env.OnUpsertTypedSearchAttributes(moved(r.Processes[1])).Once()
	h.env.OnUpsertTypedSearchAttributes(moved(r.Processes[2])).Once()
	h.env.OnUpsertTypedSearchAttributes(temporal.NewSearchAttributes(AttrState.ValueSet(taskv1.TaskState_TASK_STATE_CLOSED.String()))).Once()

	h.send(time.Minute, UpdateComment, Comment{Actor: member, Text: "called the customer"})
	h.send(2*time.Minute, UpdateComment, Comment{Actor: member, Text: "line tested"})
	h.send(3*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 21})
	h.send(4*time.Minute, UpdateComment, Comment{Actor: member, Text: "on my way"})
	h.send(5*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 22})
	h.send(6*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 23})
	if res := h.run(h.input(r)); res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("result %+v", res)
	}
	if got := len(h.model.steps); got != 6 {
		t.Fatalf("%d steps written, want 6 (three comments, two advances, the close)", got)
	}
	h.env.AssertWorkflowNumberOfCalls(t, "workflow.UpsertTypedSearchAttributes", 3)
}
