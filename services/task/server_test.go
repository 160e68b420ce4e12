package task

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// The neighbours the task service talks to, as small fakes.

type contracts struct {
	contractv1.UnimplementedContractServiceServer
	mu   sync.Mutex
	byID map[int64]*contractv1.Contract
	// removeOnNextSet is a contract removed just before the task service
	// records its connection task (its opening undone meanwhile).
	removeOnNextSet int64
}

func (f *contracts) GetContract(_ context.Context, req *contractv1.GetContractRequest) (*contractv1.GetContractResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byID[req.GetId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "contract %d does not exist", req.GetId())
	}
	return &contractv1.GetContractResponse{Contract: proto.Clone(c).(*contractv1.Contract)}, nil
}

// SetConnectionTask records a contract's connection task (the first one).
func (f *contracts) SetConnectionTask(_ context.Context, req *contractv1.SetConnectionTaskRequest) (*contractv1.SetConnectionTaskResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removeOnNextSet == req.GetContractId() {
		delete(f.byID, f.removeOnNextSet)
		f.removeOnNextSet = 0
	}
	c, ok := f.byID[req.GetContractId()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "contract %d does not exist", req.GetContractId())
	}
	if c.GetConnectionTaskId() == 0 {
		c.ConnectionTaskId = req.GetTaskId()
	}
	return &contractv1.SetConnectionTaskResponse{Contract: proto.Clone(c).(*contractv1.Contract)}, nil
}

type customers struct {
	customerv1.UnimplementedCustomerServiceServer
}

// longNamed is a customer whose name does not fit a task's column.
const longNamed = 99

// phoned is the customer whom a search for a phone holding 4567 finds.
const phoned = 4

// SearchCustomers finds the customer phoned by any part of their number
// of four digits or more, as the customer service does.
func (customers) SearchCustomers(_ context.Context, req *customerv1.SearchCustomersRequest) (*customerv1.SearchCustomersResponse, error) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, req.GetQuery())
	out := &customerv1.SearchCustomersResponse{}
	if len(digits) >= 4 && strings.Contains("+79124567890", digits) {
		out.Customers = append(out.Customers, &customerv1.Customer{Id: phoned, Name: "Ёлкина Анна"})
	}
	return out, nil
}

func (customers) GetCustomer(_ context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	name := "Anna"
	switch req.GetId() {
	case longNamed:
		name = strings.Repeat("я", 201)
	case phoned:
		name = "Ёлкина Анна"
	}
	return &customerv1.GetCustomerResponse{Customer: &customerv1.Customer{Id: req.GetId(), Name: name, Phones: []*customerv1.Phone{{Number: "+79160000003"}}}}, nil
}

// GetTariff names every tariff the same.
func (f *contracts) GetTariff(_ context.Context, req *contractv1.GetTariffRequest) (*contractv1.GetTariffResponse, error) {
	return &contractv1.GetTariffResponse{Tariff: &contractv1.Tariff{Id: req.GetId(), Name: "Home 100"}}, nil
}

type identity struct {
	identityv1.UnimplementedIdentityServiceServer
	mu      sync.Mutex
	audited []*identityv1.AuditEvent
}

func (f *identity) RecordAuditEvent(_ context.Context, req *identityv1.RecordAuditEventRequest) (*identityv1.RecordAuditEventResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audited = append(f.audited, req.GetEvent())
	return &identityv1.RecordAuditEventResponse{}, nil
}

func (f *identity) events() []*identityv1.AuditEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*identityv1.AuditEvent(nil), f.audited...)
}

func (*identity) ListGroups(context.Context, *identityv1.ListGroupsRequest) (*identityv1.ListGroupsResponse, error) {
	out := &identityv1.ListGroupsResponse{}
	for id := int64(1); id <= 6; id++ {
		out.Groups = append(out.Groups, &identityv1.Group{Id: id})
	}
	return out, nil
}

// installers are the active members of group 3, whose processes need
// visits; user 24 is a member no longer active.
var installers = []int64{20, 21, 22}

func (*identity) CheckMembership(_ context.Context, req *identityv1.CheckMembershipRequest) (*identityv1.CheckMembershipResponse, error) {
	member := req.GetGroupId() == 3 && (slices.Contains(installers, req.GetUserId()) || req.GetUserId() == 24)
	return &identityv1.CheckMembershipResponse{Member: member, Active: member && req.GetUserId() != 24}, nil
}

func (*identity) GetUser(_ context.Context, req *identityv1.GetUserRequest) (*identityv1.GetUserResponse, error) {
	return &identityv1.GetUserResponse{User: &identityv1.User{Id: req.GetId(), DisplayName: "User"}}, nil
}

type notifier struct {
	notifierv1.UnimplementedNotifierServiceServer
	mu      sync.Mutex
	events  []string
	notices []*notifierv1.TaskNotice
}

func (n *notifier) EnqueueTaskEvent(_ context.Context, req *notifierv1.EnqueueTaskEventRequest) (*notifierv1.EnqueueTaskEventResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, req.GetNotice().GetEventId())
	n.notices = append(n.notices, req.GetNotice())
	return &notifierv1.EnqueueTaskEventResponse{Queued: 1}, nil
}

// flows writes a new task as its workflow's first step would, through
// tasks, and records the tasks it created; failCreate answers the next
// create with an error after its task was written (the answer lost).
// Commands are answered once answer is set; while gone is set, that the
// workflow is not found.
type flows struct {
	mu         sync.Mutex
	tasks      taskv1.TaskServiceClient
	created    []int64
	failCreate error
	answer     bool
	gone       bool
	sends      int
	// refusal, when set, answers every command.
	refusal error
	// deliveries are the webhook deliveries started, by workflow id.
	deliveries map[string]taskflow.Delivery
	// failDeliver, when set, answers every delivery's start.
	failDeliver error
	// reopens are the reopening runs started.
	reopens []taskflow.Input
	// recorded is the last step each task's workflow history holds, for
	// tasks that do not hold every step written.
	recorded map[int64]int64
	asked    int
}

func (f *flows) Deliver(_ context.Context, d taskflow.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failDeliver != nil {
		return f.failDeliver
	}
	if f.deliveries == nil {
		f.deliveries = map[string]taskflow.Delivery{}
	}
	f.deliveries[taskflow.DeliveryWorkflowID(d.WebhookID, d.EventID)] = d
	return nil
}

// Reopen writes the reopening step as the workflow's new run would, and
// keeps the input it was given.
func (f *flows) Reopen(_ context.Context, in taskflow.Input) (taskflow.Step, error) {
	f.mu.Lock()
	f.reopens = append(f.reopens, in)
	refusal := f.refusal
	f.mu.Unlock()
	if refusal != nil {
		return taskflow.Step{}, refusal
	}
	r := in.Reopen
	resp, err := f.tasks.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: &taskv1.Transition{
		TaskId: in.TaskID, Sequence: r.After + 1, Kind: taskv1.TaskEventKind_TASK_EVENT_KIND_REOPENED, Time: timestamppb.Now(),
		State: taskv1.TaskState_TASK_STATE_OPEN, ProcessId: r.ProcessID, ActorId: r.Actor.UserID, ActorName: r.Actor.Name,
		Text: r.Reason, Comment: true, Priority: in.State.Priority, NotifyGroupIds: in.State.Groups,
	}})
	if err != nil {
		return taskflow.Step{}, err
	}
	return taskflow.Step{Task: resp.GetTask(), Sequence: r.After + 1}, nil
}

func (f *flows) started() map[string]taskflow.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.deliveries)
}

func (f *flows) Create(_ context.Context, in taskflow.Input) (*taskv1.Task, error) {
	resp, err := f.tasks.RecordTask(worker(), in.RecordRequest(time.Now()))
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if f.failCreate != nil {
		err, f.failCreate = f.failCreate, nil
		return nil, err
	}
	if !slices.Contains(f.created, in.TaskID) {
		f.created = append(f.created, in.TaskID)
	}
	return resp.GetTask(), nil
}

func (f *flows) createdTasks() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.created)
}

func (f *flows) Send(_ context.Context, taskID int64, _ string, _ any) (taskflow.Step, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends++
	switch {
	case f.refusal != nil:
		return taskflow.Step{}, f.refusal
	case !f.answer:
		return taskflow.Step{}, errors.New("not in these tests")
	case f.gone:
		return taskflow.Step{}, serviceerror.NewNotFound("workflow not found for ID: " + taskflow.WorkflowID(taskID))
	}
	return taskflow.Step{Task: &taskv1.Task{Id: taskID}, Sequence: 2}, nil
}

func (f *flows) Action(context.Context, int64) (*taskv1.ActionStatus, error) { return nil, nil }

// Sequence answers the step a task's workflow history holds last: every
// step written, unless recorded says otherwise.
func (f *flows) Sequence(_ context.Context, taskID int64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	if seq, ok := f.recorded[taskID]; ok {
		return seq, nil
	}
	return math.MaxInt64, nil
}

// record says a task's workflow history holds its steps through seq.
func (f *flows) record(taskID, seq int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recorded == nil {
		f.recorded = map[int64]int64{}
	}
	f.recorded[taskID] = seq
}

// questions tells how often a workflow was asked which steps it holds.
func (f *flows) questions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked
}

func (f *flows) sent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends
}

type fixture struct {
	addr      string
	client    taskv1.TaskServiceClient
	visits    taskv1.VisitServiceClient
	hooks     taskv1.WebhookServiceClient
	calendars taskv1.CalendarServiceClient
	reports   taskv1.ReportServiceClient
	contracts *contracts
	flows     *flows
	notifier  *notifier
	server    *Server
	identity  *identity
	// temporal is the dev server's client, when the workflows are real.
	temporal client.Client
}

const (
	activeContract    = 10
	cancelledContract = 11
	longNamedContract = 14
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &flows{}
	fx := newFixtureWith(t, f)
	fx.flows = f
	f.tasks = taskv1.NewTaskServiceClient(servicetest.DialAs(t, fx.addr, "worker"))
	return fx
}

// newFixtureWith serves the task service starting and commanding its
// workflows through wf.
func newFixtureWith(t *testing.T, wf Workflows) *fixture {
	t.Helper()
	k := &contracts{byID: map[int64]*contractv1.Contract{
		activeContract:    {Id: activeContract, Number: "C-000010", CustomerId: 3, TariffId: 1, Address: "Lenina 1,\n flat 2", Status: contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE},
		longNamedContract: {Id: longNamedContract, Number: "C-000014", CustomerId: longNamed, Status: contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE},
		cancelledContract: {Id: cancelledContract, Number: "C-000011", CustomerId: 3, Status: contractv1.ContractStatus_CONTRACT_STATUS_CANCELLED},
		12:                {Id: 12, Number: "C-000012", CustomerId: 3, Status: contractv1.ContractStatus_CONTRACT_STATUS_PENDING, Address: "Tverskaya 1"},
	}}
	n := &notifier{}
	id := &identity{}
	neighbours := servicetest.Serve(t, func(s *grpcserver.Server) {
		contractv1.RegisterContractServiceServer(s, k)
		customerv1.RegisterCustomerServiceServer(s, customers{})
		identityv1.RegisterIdentityServiceServer(s, id)
		notifierv1.RegisterNotifierServiceServer(s, n)
	})
	conn := servicetest.DialAs(t, neighbours, Name)
	db := servicetest.OpenDB(t, servicetest.Common(t), Name, migrations)
	srv, err := NewServer(db, Config{Webhooks: WebhookConfig{AllowPrivate: true, Attempts: 20, DisableAfter: 3}, ReopenWithin: 14 * 24 * time.Hour}, Deps{
		Key: servicetest.Key, Flows: wf, Contracts: contractv1.NewContractServiceClient(conn), Customers: customerv1.NewCustomerServiceClient(conn),
		Identity: identityv1.NewIdentityServiceClient(conn), Notifier: notifierv1.NewNotifierServiceClient(conn), Log: servicetest.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv.notices.confirmAfter = 0 // steps written here are asked about at once
	go srv.Forward(ctx)
	vs := NewVisitServer(srv, VisitConfig{TimeZone: "Europe/Moscow", RemindEvening: "18:00", RemindBefore: time.Hour})
	addr := servicetest.Serve(t, func(s *grpcserver.Server) {
		taskv1.RegisterTaskServiceServer(s, srv)
		taskv1.RegisterVisitServiceServer(s, vs)
		taskv1.RegisterWebhookServiceServer(s, NewWebhookServer(srv, servicetest.Key))
		taskv1.RegisterCalendarServiceServer(s, NewCalendarServer(srv))
		taskv1.RegisterReportServiceServer(s, NewReportServer(srv, "Europe/Moscow"))
	}, ledger.New(db).ServerOption())
	conn = servicetest.Dial(t, addr)
	return &fixture{
		addr: addr, client: taskv1.NewTaskServiceClient(conn), visits: taskv1.NewVisitServiceClient(conn), hooks: taskv1.NewWebhookServiceClient(conn),
		calendars: taskv1.NewCalendarServiceClient(conn), reports: taskv1.NewReportServiceClient(conn),
		contracts: k, notifier: n, server: srv, identity: id,
	}
}

func operator() context.Context {
	return servicetest.User(context.Background(), 7, servicetest.Operator, 1, 5)
}

func admin() context.Context {
	return servicetest.User(context.Background(), 1, servicetest.Admin, 6)
}

func worker() context.Context { return servicetest.Service(context.Background(), "worker") }

func TestNewDatabaseHasRouteOneAndServiceRoutes(t *testing.T) {
	f := newFixture(t)
	resp, err := f.client.ListRoutes(operator(), &taskv1.ListRoutesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetRoutes()) < 4 {
		t.Fatalf("%d routes", len(resp.GetRoutes()))
	}
	one := resp.GetRoutes()[0]
	if age := time.Since(one.GetUpdateTime().AsTime()); age < 0 || age > time.Minute {
		t.Fatalf("route 1 was last changed %v ago", age)
	}
	names := []string{"Sales check", "Technical feasibility", "Installation", "Activation", "Quality call"}
	if one.GetId() != 1 || !one.GetConnection() || len(one.GetProcesses()) != len(names) || one.GetContractEffect() != taskv1.ContractEffect_CONTRACT_EFFECT_ACTIVATE {
		t.Fatalf("route 1: %v", one)
	}
	for i, p := range one.GetProcesses() {
		if p.GetName() != names[i] || p.GetPosition() != int32(i+1) {
			t.Errorf("process %d: %v", i, p)
		}
	}
	idle := false
	for _, r := range resp.GetRoutes()[1:] {
		for _, c := range r.GetCloseRules() {
			idle = idle || c.GetKind() == taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE
		}
	}
	if !idle {
		t.Fatal("no service route has an IDLE close rule")
	}
}

func TestServiceTaskOpensInItsFirstProcessAndStartsItsWorkflow(t *testing.T) {
	f := newFixture(t)
	resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "  No signal  "})
	if err != nil {
		t.Fatal(err)
	}
	task := resp.GetTask()
	if task.GetNumber() != "T-000001" || task.GetTitle() != "No signal" || task.GetKind() != taskv1.TaskKind_TASK_KIND_SERVICE ||
		task.GetCurrentProcess().GetName() != "Diagnostics" || task.GetCustomerName() != "Anna" || task.GetContractNumber() != "C-000010" ||
		task.GetWorkflowId() != "task-1" || task.GetCreatedBy() != 7 || task.GetSlaDueAt() == nil || len(task.GetProcesses()) != 3 {
		t.Fatalf("task %v", task)
	}
	if got := f.flows.createdTasks(); len(got) != 1 || got[0] != task.GetId() {
		t.Fatalf("tasks created by workflows: %v", got)
	}
	waitFor(t, func() bool { return len(f.notifier.queued()) == 1 })
	if got := f.notifier.queued(); got[0] != "task-1/1" {
		t.Fatalf("notices %v", got)
	}
	waitFor(t, func() bool { return len(f.identity.events()) == 1 })
	if ev := f.identity.events()[0]; ev.GetAction() != "task.create" || ev.GetActorId() != 7 || ev.GetTarget() != "task:1" {
		t.Fatalf("audit %v", ev)
	}
}

func (n *notifier) queued() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.events...)
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServiceTaskRefusals(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		req  *taskv1.CreateTaskRequest
		code codes.Code
	}{
		{"on route No. 1", &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 1, Title: "x"}, codes.InvalidArgument},
		{"on an unknown route", &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 99, Title: "x"}, codes.InvalidArgument},
		{"on an unknown contract", &taskv1.CreateTaskRequest{ContractId: 99, RouteId: 2, Title: "x"}, codes.InvalidArgument},
		{"on a cancelled contract", &taskv1.CreateTaskRequest{ContractId: cancelledContract, RouteId: 2, Title: "x"}, codes.InvalidArgument},
		{"without a title", &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: " "}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.CreateTask(operator(), tc.req)
			if status.Code(err) != tc.code {
				t.Fatalf("got %v, want %v", err, tc.code)
			}
		})
	}
	list, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{})
	if err != nil || len(list.GetTasks()) != 0 || len(f.flows.createdTasks()) != 0 {
		t.Fatalf("refused creates left %d tasks, %d workflows (%v)", len(list.GetTasks()), len(f.flows.createdTasks()), err)
	}
}

func TestACreateRetriedUnderItsKeyAfterALostAnswerMakesOneTask(t *testing.T) {
	f := newFixture(t)
	ctx := metadata.AppendToOutgoingContext(operator(), idempotency.Header, "open-1")
	req := &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"}
	f.flows.failCreate = status.Error(codes.Unavailable, "the answer was lost")
	if _, err := f.client.CreateTask(ctx, req); status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v, want Unavailable", err)
	}
	again, err := f.client.CreateTask(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.client.CreateTask(operator(), req)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{})
	if err != nil || len(list.GetTasks()) != 2 || again.GetTask().GetId() == other.GetTask().GetId() {
		t.Fatalf("tasks %v (%v): the retry made %v, a create without the key %v", list.GetTasks(), err, again.GetTask(), other.GetTask())
	}
}

func TestConnectionTaskIsCreatedOncePerContract(t *testing.T) {
	f := newFixture(t)
	var ids []int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := f.client.CreateConnectionTask(worker(), &taskv1.CreateConnectionTaskRequest{ContractId: 12, WorkflowId: "connection-12", CreatedBy: 7})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids = append(ids, resp.GetTask().GetId())
			mu.Unlock()
			if resp.GetRoute().GetId() != 1 || len(resp.GetRoute().GetProcesses()) != 5 {
				t.Errorf("route %v", resp.GetRoute())
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("several tasks for one contract: %v", ids)
		}
	}
	if _, err := f.client.CreateConnectionTask(operator(), &taskv1.CreateConnectionTaskRequest{ContractId: 12}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a user called an internal RPC: %v", err)
	}
}

// A task's row is its workflow's first step: a command finding no
// workflow for an open row is refused at once, never waited on.
func TestACommandOnATaskWithoutAWorkflowIsRefusedAtOnce(t *testing.T) {
	f := newFixture(t)
	made, err := f.client.CreateConnectionTask(worker(), &taskv1.CreateConnectionTaskRequest{ContractId: 12, WorkflowId: "connection-12", CreatedBy: 7})
	if err != nil {
		t.Fatal(err)
	}
	f.flows.mu.Lock()
	f.flows.answer, f.flows.gone = true, true
	f.flows.mu.Unlock()
	_, err = f.client.AdvanceTask(operator(), &taskv1.AdvanceTaskRequest{Id: made.GetTask().GetId()})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("advance of a task without a workflow: %v, want FailedPrecondition", err)
	}
	if n := f.flows.sent(); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}
}

func TestAConnectionTaskIsPlannedWithoutBeingWrittenAndWrittenByItsWorkflowWithItsContractsLink(t *testing.T) {
	f := newFixture(t)
	plan, err := f.client.PlanConnectionTask(worker(), &taskv1.PlanConnectionTaskRequest{ContractId: 12, CreatedBy: 7})
	if err != nil {
		t.Fatal(err)
	}
	p := plan.GetTask()
	if p.GetId() == 0 || p.GetNumber() == "" || p.GetKind() != taskv1.TaskKind_TASK_KIND_CONNECTION || p.GetCurrentProcess().GetId() == 0 || plan.GetRoute().GetId() != 1 || plan.GetActorName() == "" {
		t.Fatalf("plan %v, route %v, actor %q", p, plan.GetRoute(), plan.GetActorName())
	}
	if _, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: p.GetId()}); status.Code(err) != codes.NotFound {
		t.Fatalf("a planned task was written: %v", err)
	}
	again, err := f.client.PlanConnectionTask(worker(), &taskv1.PlanConnectionTaskRequest{ContractId: 12, CreatedBy: 7})
	if err != nil || again.GetTask().GetId() != p.GetId() {
		t.Fatalf("a retried plan got task %d (%v), want %d", again.GetTask().GetId(), err, p.GetId())
	}

	record := func(task *taskv1.Task, route *taskv1.Route) (*taskv1.RecordTaskResponse, error) {
		return f.client.RecordTask(worker(), &taskv1.RecordTaskRequest{
			Id: task.GetId(), Kind: taskv1.TaskKind_TASK_KIND_CONNECTION, Title: task.GetTitle(), Description: task.GetDescription(),
			RouteId: route.GetId(), RouteVersion: route.GetVersion(), ContractId: task.GetContractId(), ContractNumber: task.GetContractNumber(),
			CustomerId: task.GetCustomerId(), CustomerName: task.GetCustomerName(), CreatedBy: 7, ActorName: plan.GetActorName(), Time: timestamppb.Now(),
		})
	}
	written, err := record(p, plan.GetRoute())
	if err != nil {
		t.Fatal(err)
	}
	if written.GetTask().GetKind() != taskv1.TaskKind_TASK_KIND_CONNECTION || written.GetTask().GetNumber() != p.GetNumber() {
		t.Fatalf("written %v, planned %v", written.GetTask(), p)
	}
	k, _ := f.contracts.GetContract(context.Background(), &contractv1.GetContractRequest{Id: 12})
	if k.GetContract().GetConnectionTaskId() != p.GetId() {
		t.Fatalf("contract 12 names task %d, its connection task is %d", k.GetContract().GetConnectionTaskId(), p.GetId())
	}

	t.Run("a contract removed meanwhile refuses its task, and nothing stays", func(t *testing.T) {
		f.contracts.mu.Lock()
		f.contracts.byID[13] = &contractv1.Contract{Id: 13, Number: "C-000013", CustomerId: 3, Status: contractv1.ContractStatus_CONTRACT_STATUS_PENDING}
		f.contracts.removeOnNextSet = 13
		f.contracts.mu.Unlock()
		plan, err := f.client.PlanConnectionTask(worker(), &taskv1.PlanConnectionTaskRequest{ContractId: 13, CreatedBy: 7})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := record(plan.GetTask(), plan.GetRoute()); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("the task of a contract removed meanwhile: %v, want FailedPrecondition", err)
		}
		list, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{ContractId: 13})
		if err != nil || len(list.GetTasks()) != 0 {
			t.Fatalf("the task of a removed contract stayed: %v (%v)", list.GetTasks(), err)
		}
	})
	if _, err := f.client.PlanConnectionTask(operator(), &taskv1.PlanConnectionTaskRequest{ContractId: 12}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a user called an internal RPC: %v", err)
	}
}

func TestConnectionTaskIsRecordedOnItsContractAndGoesWithAContractRemovedMeanwhile(t *testing.T) {
	f := newFixture(t)
	made, err := f.client.CreateConnectionTask(worker(), &taskv1.CreateConnectionTaskRequest{ContractId: 12, WorkflowId: "connection-12", CreatedBy: 7})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := f.contracts.GetContract(context.Background(), &contractv1.GetContractRequest{Id: 12})
	if k.GetContract().GetConnectionTaskId() != made.GetTask().GetId() {
		t.Fatalf("contract 12 names task %d, its connection task is %d", k.GetContract().GetConnectionTaskId(), made.GetTask().GetId())
	}

	// contract 13 is removed after the task service read it: its opening
	// was undone while the connection workflow made the task
	f.contracts.mu.Lock()
	f.contracts.byID[13] = &contractv1.Contract{Id: 13, Number: "C-000013", CustomerId: 3, Status: contractv1.ContractStatus_CONTRACT_STATUS_PENDING}
	f.contracts.removeOnNextSet = 13
	f.contracts.mu.Unlock()
	_, err = f.client.CreateConnectionTask(worker(), &taskv1.CreateConnectionTaskRequest{ContractId: 13, WorkflowId: "connection-13", CreatedBy: 7})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a connection task for a contract removed meanwhile: %v, want FailedPrecondition", err)
	}
	list, err := f.client.ListTasks(operator(), &taskv1.ListTasksRequest{ContractId: 13})
	if err != nil || len(list.GetTasks()) != 0 {
		t.Fatalf("the task of a removed contract stayed: %v (%v)", list.GetTasks(), err)
	}
}

func step(task, seq int64, kind taskv1.TaskEventKind, process, from int64, text string) *taskv1.Transition {
	return &taskv1.Transition{
		TaskId: task, Sequence: seq, Kind: kind, Time: timestamppb.Now(), ActorId: 7, ActorName: "ann",
		ProcessId: process, FromProcessId: from, Text: text, Comment: text != "", State: taskv1.TaskState_TASK_STATE_OPEN,
		NotifyGroupIds: []int64{5},
	}
}

func TestStepsApplyOnceAndInOrderWhateverTheRetries(t *testing.T) {
	f := newFixture(t)
	resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetTask().GetId()
	second := step(id, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, 7, 6, "to the field")
	third := step(id, 3, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, 8, 7, "fixed")
	// the third step lands before the second (two local activities racing)
	for _, s := range []*taskv1.Transition{third, second, second, third} {
		if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: s}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetTask().GetCurrentProcess().GetName() != "Confirmation" {
		t.Fatalf("the earlier step overwrote the later: %v", got.GetTask().GetCurrentProcess())
	}
	// shown once the forwarder learns from the workflow that it holds them
	var (
		evs *taskv1.ListTaskEventsResponse
		cs  *taskv1.ListCommentsResponse
	)
	waitFor(t, func() bool {
		evs, _ = f.client.ListTaskEvents(operator(), &taskv1.ListTaskEventsRequest{TaskId: id})
		cs, _ = f.client.ListComments(operator(), &taskv1.ListCommentsRequest{TaskId: id})
		return len(evs.GetTaskEvents()) == 3 && len(cs.GetComments()) == 2
	})
	if c := cs.GetComments()[0]; c.GetProcessName() != "Diagnostics" || c.GetText() != "to the field" {
		t.Fatalf("a comment made while completing a process belongs to it: %v", c)
	}
	waitFor(t, func() bool { return len(f.notifier.queued()) == 3 })
}

func TestAStepTheWorkflowNeverRecordedIsNeverSeenAndGivesWayToTheStepItsHistoryHas(t *testing.T) {
	f := newFixture(t)
	resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetTask().GetId()
	apply := func(s *taskv1.Transition) *taskv1.ApplyTransitionResponse {
		t.Helper()
		r, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: s})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	timeline := func() ([]*taskv1.TaskEvent, []*taskv1.Comment) {
		t.Helper()
		evs, err := f.client.ListTaskEvents(operator(), &taskv1.ListTaskEventsRequest{TaskId: id})
		if err != nil {
			t.Fatal(err)
		}
		cs, err := f.client.ListComments(operator(), &taskv1.ListCommentsRequest{TaskId: id})
		if err != nil {
			t.Fatal(err)
		}
		return evs.GetTaskEvents(), cs.GetComments()
	}
	// A comment's local activity wrote sequence 2, then its workflow task
	// was lost: the history holds the first step only.
	f.flows.record(id, 1)
	waitFor(t, func() bool { return len(f.notifier.queued()) == 1 })
	asked := f.flows.questions()
	apply(step(id, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, 6, 0, "lost with its workflow task"))
	f.server.notices.kick()
	waitFor(t, func() bool { return f.flows.questions() > asked })
	if evs, cs := timeline(); len(evs) != 1 || len(cs) != 0 {
		t.Fatalf("a step the history lacks is shown: %v %v", evs, cs)
	}
	// The workflow gave sequence 2 to the advance that came next, and its
	// update completed.
	advance := step(id, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, 7, 6, "to the field")
	if r := apply(advance); r.GetDuplicate() || r.GetTask().GetCurrentProcess().GetName() != "Field repair" {
		t.Fatalf("the advance at a sequence a lost step held: duplicate %v, task in %q", r.GetDuplicate(), r.GetTask().GetCurrentProcess().GetName())
	}
	f.flows.record(id, 2)
	// the same advance again, written later (a retried workflow task)
	again := step(id, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, 7, 6, "to the field")
	again.Time = timestamppb.New(time.Now().Add(time.Second))
	if r := apply(again); !r.GetDuplicate() {
		t.Fatal("the same step written again replaced itself")
	}
	waitFor(t, func() bool { return len(f.notifier.queued()) == 2 })
	evs, cs := timeline()
	if len(evs) != 2 || evs[1].GetKind() != taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED {
		t.Fatalf("timeline %v, want created and the advance", evs)
	}
	if len(cs) != 1 || cs[0].GetText() != "to the field" {
		t.Fatalf("comments %v, want the advance's only", cs)
	}
	// nobody heard of the lost comment; the advance's notice has an id of
	// its own
	want := []string{fmt.Sprintf("task-%d/1", id), fmt.Sprintf("task-%d/2.1", id)}
	if got := f.notifier.queued(); !slices.Equal(got, want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
}

func TestANoticeForwardedAfterTheTaskClosedTellsOfItsOwnStep(t *testing.T) {
	f := newFixture(t)
	resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetTask().GetId()
	// both steps wait for their workflow's history (or the notifier was
	// away): their notices go after the close
	f.flows.record(id, 1)
	if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: step(id, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, 7, 6, "")}); err != nil {
		t.Fatal(err)
	}
	done := step(id, 3, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, 0, 7, "")
	done.State, done.CloseReason = taskv1.TaskState_TASK_STATE_CLOSED, "all processes completed"
	if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: done}); err != nil {
		t.Fatal(err)
	}
	f.flows.record(id, 3)
	waitFor(t, func() bool { return len(f.notifier.queued()) == 3 })
	f.notifier.mu.Lock()
	defer f.notifier.mu.Unlock()
	for _, n := range f.notifier.notices {
		want := taskv1.TaskState_TASK_STATE_OPEN
		if n.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED {
			want = taskv1.TaskState_TASK_STATE_CLOSED
		}
		if n.GetTaskState() != want {
			t.Fatalf("the notice of %s says the task is %s, want %s", n.GetEventId(), n.GetTaskState(), want)
		}
	}
}

func TestAStepTheHistoryStillLacksAfterAMinuteIsDroppedAndItsEventNeverDelivered(t *testing.T) {
	f := newFixture(t)
	if _, err := f.hooks.CreateWebhook(admin(), &taskv1.CreateWebhookRequest{Webhook: &taskv1.Webhook{
		Name: "billing", Url: "http://127.0.0.1:9/hook",
		EventKinds: []taskv1.WebhookEventKind{taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_PROCESS_ENTERED},
	}}); err != nil {
		t.Fatal(err)
	}
	resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetTask().GetId()
	f.flows.record(id, 1)
	lost := step(id, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, 7, 6, "lost")
	lost.Time = timestamppb.New(time.Now().Add(-2 * time.Minute))
	if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: lost}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		var sent bool
		f.server.store.db.Raw(`SELECT notice_sent FROM task_events WHERE task_id = ? AND sequence = 2`, id).Scan(&sent)
		return sent
	})
	var held, pending int64
	f.server.store.db.Raw(`SELECT count(*) FROM webhook_outbox WHERE task_id = ? AND sequence = 2`, id).Scan(&held)
	f.server.store.db.Raw(`SELECT count(*) FROM task_events WHERE task_id = ? AND pending`, id).Scan(&pending)
	if held != 0 || pending != 1 {
		t.Fatalf("a dropped step left %d webhook events and %d hidden steps, want 0 and 1", held, pending)
	}
	if got := f.flows.started(); len(got) != 0 {
		t.Fatalf("a dropped step's event was delivered: %v", got)
	}
	if got := f.notifier.queued(); len(got) != 1 {
		t.Fatalf("notices %v, want the creation's only", got)
	}
}

func TestRouteEditsAreCheckedAndMakeNewVersions(t *testing.T) {
	f := newFixture(t)
	r, err := f.client.CreateRoute(admin(), &taskv1.CreateRouteRequest{Route: &taskv1.Route{
		Name:       "Callback",
		Processes:  []*taskv1.Process{{Name: "Call", GroupId: 5}, {Name: "Report", GroupId: 1}},
		CloseRules: []*taskv1.CloseRule{{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE, ProcessId: -2, IdleSeconds: 60, Outcome: taskv1.TaskState_TASK_STATE_CLOSED}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	route := r.GetRoute()
	if route.GetVersion() != 1 || route.GetCloseRules()[1].GetProcessId() != route.GetProcesses()[1].GetId() {
		t.Fatalf("route %v", route)
	}
	other, _ := f.client.GetRoute(admin(), &taskv1.GetRouteRequest{Id: 2})
	for _, tc := range []struct {
		name  string
		route *taskv1.Route
	}{
		{"no processes", &taskv1.Route{Id: route.GetId(), Name: "x"}},
		{"a close rule naming another route's process", &taskv1.Route{Id: route.GetId(), Name: "x", Processes: route.GetProcesses(),
			CloseRules: []*taskv1.CloseRule{{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE, ProcessId: other.GetRoute().GetProcesses()[0].GetId(), IdleSeconds: 5, Outcome: taskv1.TaskState_TASK_STATE_CLOSED}}}},
		{"an unknown group", &taskv1.Route{Id: route.GetId(), Name: "x", Processes: []*taskv1.Process{{Name: "a", GroupId: 77}}}},
		{"a process of another route", &taskv1.Route{Id: route.GetId(), Name: "x", Processes: []*taskv1.Process{{Id: other.GetRoute().GetProcesses()[0].GetId(), Name: "a", GroupId: 1}}}},
		{"an idle rule without a duration", &taskv1.Route{Id: route.GetId(), Name: "x", Processes: route.GetProcesses(),
			CloseRules: []*taskv1.CloseRule{{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_IDLE, Outcome: taskv1.TaskState_TASK_STATE_CLOSED}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.client.UpdateRoute(admin(), &taskv1.UpdateRouteRequest{Route: tc.route}); status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
		})
	}
	ok, err := f.client.UpdateRoute(admin(), &taskv1.UpdateRouteRequest{ExpectedVersion: 1, Route: &taskv1.Route{Id: route.GetId(), Name: "Callback v2", Processes: route.GetProcesses()[:1]}})
	if err != nil || ok.GetRoute().GetVersion() != 2 || ok.GetRoute().GetProcesses()[0].GetId() != route.GetProcesses()[0].GetId() {
		t.Fatalf("edit: %v %v", ok, err)
	}
	if _, err := f.client.UpdateRoute(admin(), &taskv1.UpdateRouteRequest{ExpectedVersion: 1, Route: ok.GetRoute()}); status.Code(err) != codes.Aborted {
		t.Fatalf("a stale edit: %v, want Aborted", err)
	}
	if _, err := f.client.UpdateRoute(operator(), &taskv1.UpdateRouteRequest{Route: ok.GetRoute()}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an operator edited a route: %v", err)
	}
}

func TestCommandsCarryingWhatTheColumnsCannotHoldNeverReachTheWorkflow(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"a cancel reason longer than close_reason's 500 characters", func() error {
			_, err := f.client.CancelTask(operator(), &taskv1.CancelTaskRequest{Id: 1, Reason: strings.Repeat("п", 501)})
			return err
		}, "reason"},
		{"a resolution longer than its 100 characters", func() error {
			_, err := f.client.AdvanceTask(operator(), &taskv1.AdvanceTaskRequest{Id: 1, Resolution: strings.Repeat("r", 101)})
			return err
		}, "resolution"},
		{"an advance comment holding a NUL", func() error {
			_, err := f.client.AdvanceTask(operator(), &taskv1.AdvanceTaskRequest{Id: 1, Comment: "ok\x00"})
			return err
		}, "comment"},
		{"a comment holding a NUL", func() error {
			_, err := f.client.AddComment(operator(), &taskv1.AddCommentRequest{TaskId: 1, Text: "\x00"})
			return err
		}, "text"},
		{"a blank comment", func() error {
			_, err := f.client.AddComment(operator(), &taskv1.AddCommentRequest{TaskId: 1, Text: " \n "})
			return err
		}, "text"},
		{"a title longer than its 200 characters", func() error {
			_, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: strings.Repeat("т", 201)})
			return err
		}, "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.flows.sent()
			err := tc.call()
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
			if !strings.Contains(status.Convert(err).Message(), tc.field) {
				t.Errorf("the message %q does not name %s", status.Convert(err).Message(), tc.field)
			}
			if f.flows.sent() != before || len(f.flows.createdTasks()) != 0 {
				t.Error("the command reached a workflow")
			}
		})
	}
}
