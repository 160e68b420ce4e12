package task

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

const (
	defaultPage = 50
	maxPage     = 200
	manageTasks = "tasks.manage"
)

// Workflows starts task workflows and sends them commands.
type Workflows interface {
	// Create starts a service task's workflow, which writes the task, and
	// answers the task.
	Create(ctx context.Context, in taskflow.Input) (*taskv1.Task, error)
	Send(ctx context.Context, taskID int64, update string, arg any) (taskflow.Step, error)
	// Action tells how the action of the automatic process a task is in
	// stands (nil: none is running).
	Action(ctx context.Context, taskID int64) (*taskv1.ActionStatus, error)
}

// Server implements taskv1.TaskServiceServer.
type Server struct {
	taskv1.UnimplementedTaskServiceServer
	store     *store
	routes    *routeStore
	pages     *pagetoken.Codec
	flows     Workflows
	contracts contractv1.ContractServiceClient
	customers customerv1.CustomerServiceClient
	identity  identityv1.IdentityServiceClient
	notices   *forwarder
	log       *slog.Logger
	// locale is the deployment's language, of the titles it composes.
	locale string
}

func (s *Server) CreateTask(ctx context.Context, req *taskv1.CreateTaskRequest) (*taskv1.CreateTaskResponse, error) {
	p, _ := auth.From(ctx)
	title, desc := strings.TrimSpace(req.GetTitle()), strings.TrimSpace(req.GetDescription())
	var v []fault.Violation
	if title == "" {
		v = append(v, fault.Violation{Field: "title", Description: "a task needs a title"})
	}
	if req.GetRouteId() == ConnectionRouteID {
		v = append(v, fault.Violation{Field: "routeId", Description: "route No. 1 is reserved for connection tasks; choose a service route"})
	}
	if len(v) > 0 {
		return nil, &fault.Error{Kind: fault.Invalid, Message: v[0].Description, Violations: v}
	}
	route, def, err := s.routes.current(ctx, req.GetRouteId())
	if fault.Is(err, fault.NotFound) {
		return nil, fault.Field("routeId", "route %d does not exist", req.GetRouteId())
	} else if err != nil {
		return nil, err
	}
	contract, err := s.contract(ctx, req.GetContractId())
	if err != nil {
		return nil, err
	}
	switch contract.GetStatus() {
	case contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE, contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED:
	default:
		return nil, fault.Field("contractId", "contract %s is %s; service tasks are opened on active or suspended contracts",
			contract.GetNumber(), strings.TrimPrefix(contract.GetStatus().String(), "CONTRACT_STATUS_"))
	}
	snapshot := taskflow.RouteFromProto(def.toProto(route, route.Version))
	params, err := s.parameters(ctx, snapshot, req.GetParameters())
	if err != nil {
		return nil, err
	}
	// A retry under the same idempotency key gets the same id, and so
	// joins the first attempt's workflow.
	id, err := s.store.allocate(ctx, idempotency.UpdateID(ctx, "create-task"))
	if err != nil {
		return nil, err
	}
	t, err := s.flows.Create(ctx, taskflow.Input{
		TaskID: id, Number: taskNumber(id), Kind: taskv1.TaskKind_TASK_KIND_SERVICE,
		ContractID: contract.GetId(), CustomerID: contract.GetCustomerId(), CreatedBy: p.UserID,
		Route: snapshot, Params: params,
		Create: &taskflow.NewTask{
			Title: title, Description: desc, ContractNumber: contract.GetNumber(),
			CustomerName: s.customerName(ctx, contract.GetCustomerId()), ActorName: p.Login,
		},
	})
	if err != nil {
		return nil, createError(err)
	}
	s.audit(ctx, "task.create", "task:"+strconv.FormatInt(t.GetId(), 10), "task_created", "number", t.GetNumber(), "route", def.Name)
	return &taskv1.CreateTaskResponse{Task: s.withProcesses(ctx, t)}, nil
}

// parameters checks what a route's actions need, chosen when the task is
// opened: a tariff change needs a tariff that exists and is offered.
// Parameters the route does not use are dropped.
func (s *Server) parameters(ctx context.Context, r taskflow.Route, in *taskv1.TaskParameters) (taskflow.Params, error) {
	if !r.NeedsTariff() {
		return taskflow.Params{}, nil
	}
	id := in.GetTariffId()
	if id <= 0 {
		return taskflow.Params{}, fault.Field("parameters.tariffId", "route %q changes the contract's tariff: choose the tariff", r.Name)
	}
	resp, err := s.contracts.GetTariff(ctx, &contractv1.GetTariffRequest{Id: id})
	switch {
	case status.Code(err) == codes.NotFound:
		return taskflow.Params{}, fault.Field("parameters.tariffId", "tariff %d does not exist", id)
	case err != nil:
		return taskflow.Params{}, err
	case !resp.GetTariff().GetActive():
		return taskflow.Params{}, fault.Field("parameters.tariffId", "tariff %q is no longer offered; choose another", resp.GetTariff().GetName())
	}
	return taskflow.Params{TariffID: id}, nil
}

// createError maps a service task that could not be opened to the status
// people see: their data refused is a 400, anything else a 503 (the task
// does not exist; trying again is safe).
func createError(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == taskflow.ErrRefused {
		return fault.New(fault.Invalid, "%s", app.Message())
	}
	return fault.New(fault.Unavailable, "the task could not be opened; try again in a moment")
}

// RecordTask writes a task as its workflow's first step.
func (s *Server) RecordTask(ctx context.Context, req *taskv1.RecordTaskRequest) (*taskv1.RecordTaskResponse, error) {
	if req.GetTime() == nil {
		return nil, fault.Field("time", "a new task names when its workflow began")
	}
	def, err := s.routes.definition(ctx, req.GetRouteId(), req.GetRouteVersion())
	if err != nil {
		return nil, err
	}
	kind := req.GetKind()
	if kind == taskv1.TaskKind_TASK_KIND_UNSPECIFIED {
		kind = taskv1.TaskKind_TASK_KIND_SERVICE
	}
	n := newTask{row: taskRow{
		ID: req.GetId(), Kind: int32(kind), Title: req.GetTitle(), Description: req.GetDescription(),
		RouteID: req.GetRouteId(), RouteVersion: req.GetRouteVersion(), RouteName: def.Name,
		ContractID: req.GetContractId(), ContractNumber: req.GetContractNumber(),
		CustomerID: req.GetCustomerId(), CustomerName: req.GetCustomerName(), CreatedBy: req.GetCreatedBy(),
		CreatedAt: micros.FromProto(req.GetTime()), TariffID: req.GetParameters().GetTariffId(),
	}, route: def, actor: req.GetActorName()}
	if kind == taskv1.TaskKind_TASK_KIND_CONNECTION {
		cid := req.GetContractId()
		n.row.ConnectionContractID = &cid
	}
	row, err := s.store.record(ctx, n)
	if err != nil {
		return nil, err
	}
	if kind == taskv1.TaskKind_TASK_KIND_CONNECTION {
		if err := s.linkContract(ctx, row); err != nil {
			return nil, err
		}
	}
	s.notices.kick()
	return &taskv1.RecordTaskResponse{Task: row.toProto()}, nil
}

// contract fetches a contract for a task, as the caller.
func (s *Server) contract(ctx context.Context, id int64) (*contractv1.Contract, error) {
	resp, err := s.contracts.GetContract(ctx, &contractv1.GetContractRequest{Id: id})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, fault.Field("contractId", "contract %d does not exist", id)
		}
		return nil, err
	}
	return resp.GetContract(), nil
}

func (s *Server) customerName(ctx context.Context, id int64) string {
	resp, err := s.customers.GetCustomer(ctx, &customerv1.GetCustomerRequest{Id: id})
	if err != nil {
		return "#" + strconv.FormatInt(id, 10)
	}
	return resp.GetCustomer().GetName()
}

// withProcesses adds the route version's processes to a task (the detail
// view shows them; lists do not).
func (s *Server) withProcesses(ctx context.Context, t *taskv1.Task) *taskv1.Task {
	if def, err := s.routes.definition(ctx, t.GetRouteId(), t.GetRouteVersion()); err == nil {
		for i, p := range def.Processes {
			t.Processes = append(t.Processes, def.processProto(i))
			if p.ID == t.GetCurrentProcess().GetId() {
				t.CurrentProcess.Kind, t.CurrentProcess.Action = t.Processes[i].Kind, t.Processes[i].Action
			}
		}
	}
	return t
}

func (s *Server) GetTask(ctx context.Context, req *taskv1.GetTaskRequest) (*taskv1.GetTaskResponse, error) {
	row, err := s.store.get(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	t := s.withProcesses(ctx, row.toProto())
	if t.GetState() == taskv1.TaskState_TASK_STATE_OPEN && t.GetCurrentProcess().GetKind() == taskv1.ProcessKind_PROCESS_KIND_AUTOMATIC {
		// how its action stands is the workflow's to tell; a task whose
		// workflow cannot answer now is shown without it
		if a, err := s.flows.Action(ctx, t.GetId()); err == nil {
			t.Action = a
		} else {
			s.log.Warn("cannot tell how a task's action stands", "task", t.GetNumber(), "err", err)
		}
	}
	return &taskv1.GetTaskResponse{Task: t}, nil
}

type listCursor struct {
	Before int64 `json:"b"`
}

func (s *Server) ListTasks(ctx context.Context, req *taskv1.ListTasksRequest) (*taskv1.ListTasksResponse, error) {
	f := taskFilter{
		GroupID: req.GetGroupId(), ContractID: req.GetContractId(), CustomerID: req.GetCustomerId(),
		RouteID: req.GetRouteId(), State: int32(req.GetState()), Breached: req.GetSlaBreached(), Stuck: req.GetStuck(),
		Limit: pagetoken.Size(req.GetPageSize(), defaultPage, maxPage) + 1,
	}
	switch a := strings.TrimSpace(req.GetAssignee()); a {
	case "":
	case "me":
		p, _ := auth.From(ctx)
		f.AssigneeID = p.UserID
	default:
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, fault.Field("assignee", "assignee is a user id or \"me\"")
		}
		f.AssigneeID = id
	}
	query := listQuery(req)
	var cur listCursor
	if _, err := s.pages.Decode(req.GetPageToken(), query, &cur); err != nil {
		return nil, err
	}
	f.Before = cur.Before
	var rows []taskRow
	if q := strings.TrimSpace(req.GetQuery()); q != "" {
		terms, err := s.terms(ctx, q)
		if err != nil {
			return nil, err
		}
		if rows, err = s.store.search(ctx, terms, f); err != nil {
			return nil, err
		}
	} else {
		var err error
		if rows, err = s.store.list(ctx, f); err != nil {
			return nil, err
		}
	}
	resp := &taskv1.ListTasksResponse{}
	if len(rows) == f.Limit {
		rows = rows[:len(rows)-1]
		resp.NextPageToken = s.pages.Encode(query, listCursor{Before: rows[len(rows)-1].ID})
	}
	for i := range rows {
		resp.Tasks = append(resp.Tasks, rows[i].toProto())
	}
	return resp, nil
}

func listQuery(r *taskv1.ListTasksRequest) string {
	return strings.Join([]string{
		strconv.FormatInt(r.GetGroupId(), 10), r.GetState().String(), strconv.FormatInt(r.GetContractId(), 10),
		strconv.FormatInt(r.GetCustomerId(), 10), r.GetAssignee(), strconv.FormatInt(r.GetRouteId(), 10),
		strconv.FormatBool(r.GetSlaBreached()), strconv.FormatBool(r.GetStuck()), strings.TrimSpace(r.GetQuery()),
	}, "|")
}

// actor is the caller as a task workflow sees them.
func actor(ctx context.Context) taskflow.Actor {
	p, _ := auth.From(ctx)
	name := p.Name
	if name == "" {
		name = p.Login
	}
	return taskflow.Actor{UserID: p.UserID, Name: name, Groups: p.Groups, CanManage: p.Can(manageTasks) && !p.IsService()}
}

// command sends a command to a task's workflow and answers the task as it
// stands after the step.
func (s *Server) command(ctx context.Context, id int64, update string, arg any) (taskflow.Step, error) {
	row, err := s.store.get(ctx, id)
	if err != nil {
		return taskflow.Step{}, err
	}
	if row.State != int32(taskv1.TaskState_TASK_STATE_OPEN) {
		return taskflow.Step{}, fault.New(fault.FailedPrecondition, "task %s is %s", row.Number, strings.ToLower(strings.TrimPrefix(taskv1.TaskState(row.State).String(), "TASK_STATE_")))
	}
	// The task's row is its workflow's first step: a row found has its
	// workflow, and one not found there has ended.
	step, err := s.flows.Send(ctx, row.ID, update, arg)
	if err != nil {
		return taskflow.Step{}, commandError(row, err)
	}
	s.notices.kick()
	s.audit(ctx, "task."+update, "task:"+strconv.FormatInt(id, 10), "task_step", "number", row.Number, "process", row.ProcessName)
	return step, nil
}

// commandError maps a refused command to the status people see.
func commandError(row *taskRow, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg := app.Message()
		switch app.Type() {
		case taskflow.ErrClosed:
			return fault.New(fault.FailedPrecondition, "%s", msg)
		case taskflow.ErrMoved:
			return fault.New(fault.Aborted, "%s", msg).Because("TASK_MOVED", nil)
		case taskflow.ErrNotMember:
			return fault.New(fault.PermissionDenied, "%s", msg)
		case taskflow.ErrInvalid, taskflow.ErrRefused:
			return fault.New(fault.Invalid, "%s", msg)
		case taskflow.ErrStuck:
			return fault.New(fault.Unavailable, "%s", msg).Because("TASK_STUCK", nil)
		case taskflow.ErrNotStuck:
			return fault.New(fault.FailedPrecondition, "%s", msg)
		case taskflow.ErrAutomatic:
			return fault.New(fault.FailedPrecondition, "%s", msg).Because("PROCESS_AUTOMATIC", nil)
		}
	}
	if taskflow.IsGone(err) {
		return fault.New(fault.FailedPrecondition, "task %s is closed", row.Number)
	}
	return err
}

func (s *Server) respond(ctx context.Context, step taskflow.Step) *taskv1.Task {
	if row, err := s.store.get(ctx, step.Task.GetId()); err == nil {
		return s.withProcesses(ctx, row.toProto())
	}
	return step.Task
}

func (s *Server) AdvanceTask(ctx context.Context, req *taskv1.AdvanceTaskRequest) (*taskv1.AdvanceTaskResponse, error) {
	step, err := s.command(ctx, req.GetId(), taskflow.UpdateAdvance, taskflow.Advance{Actor: actor(ctx), ProcessID: req.GetProcessId(), Comment: req.GetComment(), Resolution: req.GetResolution()})
	if err != nil {
		return nil, err
	}
	return &taskv1.AdvanceTaskResponse{Task: s.respond(ctx, step)}, nil
}

func (s *Server) ReturnTask(ctx context.Context, req *taskv1.ReturnTaskRequest) (*taskv1.ReturnTaskResponse, error) {
	if err := requireText("comment", req.GetComment()); err != nil {
		return nil, err
	}
	step, err := s.command(ctx, req.GetId(), taskflow.UpdateReturn, taskflow.Return{Actor: actor(ctx), ProcessID: req.GetProcessId(), ToProcessID: req.GetToProcessId(), Comment: req.GetComment()})
	if err != nil {
		return nil, err
	}
	return &taskv1.ReturnTaskResponse{Task: s.respond(ctx, step)}, nil
}

func (s *Server) AssignTask(ctx context.Context, req *taskv1.AssignTaskRequest) (*taskv1.AssignTaskResponse, error) {
	if req.GetProcessId() == 0 {
		return nil, fault.Field("processId", "say which process the task was in when you chose whom to give it to")
	}
	cmd := taskflow.Assign{Actor: actor(ctx), ProcessID: req.GetProcessId(), UserID: req.GetUserId()}
	if cmd.UserID != 0 && cmd.UserID != cmd.Actor.UserID {
		// Membership of the group of the process the caller saw: the
		// workflow refuses the command if the task has left it.
		row, err := s.store.get(ctx, req.GetId())
		if err != nil {
			return nil, err
		}
		def, err := s.routes.definition(ctx, row.RouteID, row.RouteVersion)
		if err != nil {
			return nil, err
		}
		p, _, ok := def.process(req.GetProcessId())
		if !ok {
			return nil, fault.Field("processId", "process %d is not on this task's route", req.GetProcessId())
		}
		m, err := s.identity.CheckMembership(auth.AsService(ctx), &identityv1.CheckMembershipRequest{UserId: cmd.UserID, GroupId: p.GroupID})
		if err != nil {
			return nil, err
		}
		cmd.AssigneeInGroup = m.GetMember() && m.GetActive()
	}
	step, err := s.command(ctx, req.GetId(), taskflow.UpdateAssign, cmd)
	if err != nil {
		return nil, err
	}
	return &taskv1.AssignTaskResponse{Task: s.respond(ctx, step)}, nil
}

func (s *Server) CancelTask(ctx context.Context, req *taskv1.CancelTaskRequest) (*taskv1.CancelTaskResponse, error) {
	if err := requireText("reason", req.GetReason()); err != nil {
		return nil, err
	}
	step, err := s.command(ctx, req.GetId(), taskflow.UpdateCancel, taskflow.Cancel{Actor: actor(ctx), Reason: req.GetReason()})
	if err != nil {
		return nil, err
	}
	return &taskv1.CancelTaskResponse{Task: s.respond(ctx, step)}, nil
}

func (s *Server) AddComment(ctx context.Context, req *taskv1.AddCommentRequest) (*taskv1.AddCommentResponse, error) {
	if err := requireText("text", req.GetText()); err != nil {
		return nil, err
	}
	step, err := s.command(ctx, req.GetTaskId(), taskflow.UpdateComment, taskflow.Comment{Actor: actor(ctx), Text: req.GetText()})
	if err != nil {
		return nil, err
	}
	c, err := s.store.comment(ctx, req.GetTaskId(), step.Sequence)
	if err != nil {
		return nil, err
	}
	return &taskv1.AddCommentResponse{Comment: c.toProto()}, nil
}

// requireText refuses a blank text; its length and characters are the
// proto's rules, checked before the handler runs.
func requireText(field, text string) error {
	if strings.TrimSpace(text) == "" {
		return fault.Field(field, "the %s is empty", field)
	}
	return nil
}

type seqCursor struct {
	After int64 `json:"a"`
}

func (s *Server) ListComments(ctx context.Context, req *taskv1.ListCommentsRequest) (*taskv1.ListCommentsResponse, error) {
	if _, err := s.store.get(ctx, req.GetTaskId()); err != nil {
		return nil, err
	}
	query := "comments|" + strconv.FormatInt(req.GetTaskId(), 10)
	var cur seqCursor
	if _, err := s.pages.Decode(req.GetPageToken(), query, &cur); err != nil {
		return nil, err
	}
	size := pagetoken.Size(req.GetPageSize(), 100, 500)
	rows, err := s.store.comments(ctx, req.GetTaskId(), cur.After, size+1)
	if err != nil {
		return nil, err
	}
	resp := &taskv1.ListCommentsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		resp.NextPageToken = s.pages.Encode(query, seqCursor{After: rows[size-1].Sequence})
	}
	for i := range rows {
		resp.Comments = append(resp.Comments, rows[i].toProto())
	}
	return resp, nil
}

func (s *Server) ListTaskEvents(ctx context.Context, req *taskv1.ListTaskEventsRequest) (*taskv1.ListTaskEventsResponse, error) {
	if _, err := s.store.get(ctx, req.GetTaskId()); err != nil {
		return nil, err
	}
	query := "events|" + strconv.FormatInt(req.GetTaskId(), 10)
	var cur seqCursor
	if _, err := s.pages.Decode(req.GetPageToken(), query, &cur); err != nil {
		return nil, err
	}
	size := pagetoken.Size(req.GetPageSize(), 100, 500)
	rows, err := s.store.events(ctx, req.GetTaskId(), cur.After, size+1)
	if err != nil {
		return nil, err
	}
	resp := &taskv1.ListTaskEventsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		resp.NextPageToken = s.pages.Encode(query, seqCursor{After: rows[size-1].Sequence})
	}
	for i := range rows {
		resp.TaskEvents = append(resp.TaskEvents, rows[i].toProto())
	}
	return resp, nil
}

func (s *Server) GetTaskStats(ctx context.Context, _ *taskv1.GetTaskStatsRequest) (*taskv1.GetTaskStatsResponse, error) {
	rows, err := s.store.load(ctx)
	if err != nil {
		return nil, err
	}
	resp := &taskv1.GetTaskStatsResponse{}
	for _, r := range rows {
		resp.Processes = append(resp.Processes, &taskv1.ProcessLoad{RouteId: r.RouteID, RouteName: r.RouteName, ProcessId: r.ProcessID, ProcessName: r.ProcessName, GroupId: r.ProcessGroupID, OpenTasks: r.Open, BreachedTasks: r.Breached})
		resp.OpenTasks += r.Open
		resp.BreachedTasks += r.Breached
	}
	p, _ := auth.From(ctx)
	if resp.MyTasks, err = s.store.countOpenAssigned(ctx, p.UserID); err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *Server) ListRoutes(ctx context.Context, _ *taskv1.ListRoutesRequest) (*taskv1.ListRoutesResponse, error) {
	routes, err := s.routes.list(ctx)
	if err != nil {
		return nil, err
	}
	return &taskv1.ListRoutesResponse{Routes: routes}, nil
}

func (s *Server) GetRoute(ctx context.Context, req *taskv1.GetRouteRequest) (*taskv1.GetRouteResponse, error) {
	r, def, err := s.routes.current(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &taskv1.GetRouteResponse{Route: def.toProto(r, r.Version)}, nil
}

func (s *Server) CreateRoute(ctx context.Context, req *taskv1.CreateRouteRequest) (*taskv1.CreateRouteResponse, error) {
	exists, err := s.groups(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.routes.save(ctx, 0, 0, req.GetRoute(), exists)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "route.create", "route:"+strconv.FormatInt(r.GetId(), 10), "route_named", "name", r.GetName())
	return &taskv1.CreateRouteResponse{Route: r}, nil
}

func (s *Server) UpdateRoute(ctx context.Context, req *taskv1.UpdateRouteRequest) (*taskv1.UpdateRouteResponse, error) {
	if req.GetRoute() == nil {
		return nil, fault.Field("route", "send the route to save")
	}
	id, err := fault.UpdatedID("route", req.GetId(), req.GetRoute().GetId())
	if err != nil {
		return nil, err
	}
	req.Route.Id = id
	exists, err := s.groups(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.routes.save(ctx, id, req.GetExpectedVersion(), req.GetRoute(), exists)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "route.update", "route:"+strconv.FormatInt(r.GetId(), 10), "route_version", "name", r.GetName(), "version", strconv.Itoa(int(r.GetVersion())))
	return &taskv1.UpdateRouteResponse{Route: r}, nil
}

// groups answers which work groups exist, for route checks.
func (s *Server) groups(ctx context.Context) (func(int64) bool, error) {
	resp, err := s.identity.ListGroups(auth.AsService(ctx), &identityv1.ListGroupsRequest{})
	if err != nil {
		return nil, err
	}
	ids := map[int64]bool{}
	for _, g := range resp.GetGroups() {
		ids[g.GetId()] = true
	}
	return func(id int64) bool { return ids[id] }, nil
}

func (s *Server) CreateConnectionTask(ctx context.Context, req *taskv1.CreateConnectionTaskRequest) (*taskv1.CreateConnectionTaskResponse, error) {
	contract, err := s.contract(ctx, req.GetContractId())
	if err != nil {
		return nil, err
	}
	route, def, err := s.routes.current(ctx, ConnectionRouteID)
	if err != nil {
		return nil, err
	}
	cid := contract.GetId()
	row, existed, err := s.store.create(ctx, newTask{row: taskRow{
		Kind: int32(taskv1.TaskKind_TASK_KIND_CONNECTION), Title: connectionTitle(s.locale, contract.GetNumber()),
		Description: contract.GetAddress(), RouteID: route.ID, RouteVersion: route.Version, RouteName: def.Name,
		ContractID: cid, ContractNumber: contract.GetNumber(), CustomerID: contract.GetCustomerId(),
		CustomerName: s.customerName(ctx, contract.GetCustomerId()), CreatedBy: req.GetCreatedBy(),
		ConnectionContractID: &cid, // its contract's workflow makes it, and starts its own
	}, route: def, actor: s.userName(ctx, req.GetCreatedBy())})
	if err != nil {
		return nil, err
	}
	if err := s.linkContract(ctx, row); err != nil {
		return nil, err
	}
	if existed {
		def, err = s.routes.definition(ctx, row.RouteID, row.RouteVersion)
		if err != nil {
			return nil, err
		}
		route.Version = row.RouteVersion
	}
	s.notices.kick()
	return &taskv1.CreateConnectionTaskResponse{Task: row.toProto(), Route: def.toProto(route, route.Version)}, nil
}

// userName is a user's display name, or their id when unknown.
func (s *Server) userName(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	if resp, err := s.identity.GetUser(auth.AsService(ctx), &identityv1.GetUserRequest{Id: id}); err == nil {
		if n := resp.GetUser().GetDisplayName(); n != "" {
			return n
		}
		return resp.GetUser().GetLogin()
	}
	return "#" + strconv.FormatInt(id, 10)
}

func (s *Server) ApplyTransition(ctx context.Context, req *taskv1.ApplyTransitionRequest) (*taskv1.ApplyTransitionResponse, error) {
	t := req.GetTransition()
	if t.GetTaskId() == 0 || t.GetSequence() < 2 {
		return nil, fault.Field("transition", "a step names its task and a sequence after the first")
	}
	var assignee string
	if a := t.GetAssigneeId(); a != 0 && a != t.GetActorId() && t.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_ASSIGNED {
		assignee = s.userName(ctx, a)
	}
	row, dup, err := s.store.apply(ctx, t, assignee)
	if err != nil {
		return nil, err
	}
	if !dup {
		s.notices.kick()
	}
	return &taskv1.ApplyTransitionResponse{Task: row.toProto(), Duplicate: dup}, nil
}

// RetryTask asks a stuck task's workflow to write its pending work now.
// A closed task may be stuck too (its contract effect), so the read
// model's state is not checked.
func (s *Server) RetryTask(ctx context.Context, req *taskv1.RetryTaskRequest) (*taskv1.RetryTaskResponse, error) {
	row, err := s.store.get(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	if _, err := s.flows.Send(ctx, row.ID, taskflow.UpdateRetry, taskflow.Retry{Actor: actor(ctx)}); err != nil {
		if taskflow.IsGone(err) {
			return nil, fault.New(fault.FailedPrecondition, "task %s is not stuck; there is nothing to retry", row.Number)
		}
		return nil, commandError(row, err)
	}
	s.audit(ctx, "task.retry", "task:"+strconv.FormatInt(row.ID, 10), "task_number", "number", row.Number)
	return &taskv1.RetryTaskResponse{Task: s.respond(ctx, taskflow.Step{Task: row.toProto()})}, nil
}

func (s *Server) SetTaskStuck(ctx context.Context, req *taskv1.SetTaskStuckRequest) (*taskv1.SetTaskStuckResponse, error) {
	if req.GetTime() == nil {
		return nil, fault.Field("time", "a stuck mark names its time")
	}
	reason := strings.TrimSpace(req.GetReason())
	became, err := s.store.setStuck(ctx, req.GetTaskId(), req.GetStuck(), reason, micros.FromProto(req.GetTime()))
	if err != nil {
		return nil, err
	}
	if became {
		s.log.Error("task is stuck: its workflow could not write a step", "task", req.GetTaskId(), "reason", reason)
	}
	return &taskv1.SetTaskStuckResponse{}, nil
}

// DiscardTask removes a task whose workflow could not write its first
// step; a task with later steps is kept.
func (s *Server) DiscardTask(ctx context.Context, req *taskv1.DiscardTaskRequest) (*taskv1.DiscardTaskResponse, error) {
	return &taskv1.DiscardTaskResponse{}, s.store.discard(ctx, req.GetId())
}
