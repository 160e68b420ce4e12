package task

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

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
	plan, err := s.routeForTask(ctx, def, route, route.Version)
	if err != nil {
		return nil, err
	}
	snapshot := taskflow.RouteFromProto(plan)
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
			Priority: req.GetPriority(),
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

func (s *Server) GetTask(ctx context.Context, req *taskv1.GetTaskRequest) (*taskv1.GetTaskResponse, error) {
	row, err := s.store.get(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	t := s.withProcesses(ctx, row.toProto())
	if until := s.reopenUntil(row); !until.IsZero() {
		t.ReopenUntil = timestamppb.New(until)
	}
	if err := s.slaLeft(ctx, t); err != nil {
		return nil, err
	}
	if t.GetState() == taskv1.TaskState_TASK_STATE_OPEN && t.GetCurrentProcess().GetKind() == taskv1.ProcessKind_PROCESS_KIND_AUTOMATIC {
		// how its action stands is the workflow's to tell; a task whose
		// workflow cannot answer now is shown without it
		if a, err := s.flows.Action(ctx, t.GetId()); err == nil {
			t.Action = a
		} else {
			s.log.Warn("cannot tell how a task's action stands", "task", t.GetNumber(), "err", err)
		}
	}
	if b, err := s.store.activeVisit(ctx, row.ID); err != nil {
		return nil, err
	} else if b != nil {
		names := map[int64]string{}
		for _, id := range splitIDs(b.TechnicianIDs) {
			names[id] = s.userName(ctx, id)
		}
		t.Visit = b.toProto(names)
	}
	return &taskv1.GetTaskResponse{Task: t}, nil
}

func (s *Server) ListTasks(ctx context.Context, req *taskv1.ListTasksRequest) (*taskv1.ListTasksResponse, error) {
	f := taskFilter{
		GroupID: req.GetGroupId(), ContractID: req.GetContractId(), CustomerID: req.GetCustomerId(),
		RouteID: req.GetRouteId(), State: int32(req.GetState()), Breached: req.GetSlaBreached(), Stuck: req.GetStuck(),
		AwaitingVisit: req.GetAwaitingVisit(), ByPriority: listOrder(req) == taskv1.TaskOrder_TASK_ORDER_PRIORITY,
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
	// The query names the order: a token made for the other is refused.
	if _, err := s.pages.Decode(req.GetPageToken(), query, &f.After); err != nil {
		return nil, err
	}
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
	rows, resp.NextPageToken = pagetoken.Next(s.pages, query, rows, f.Limit-1, func(r *taskRow) any { return keyOf(r) })
	for i := range rows {
		resp.Tasks = append(resp.Tasks, rows[i].toProto())
	}
	return resp, nil
}

// listQuery names a listing for its page tokens: every filter and the
// order, the free text last (the only part that may hold the separator).
func listQuery(r *taskv1.ListTasksRequest) string {
	return strings.Join([]string{
		strconv.FormatInt(r.GetGroupId(), 10), r.GetState().String(), strconv.FormatInt(r.GetContractId(), 10),
		strconv.FormatInt(r.GetCustomerId(), 10), r.GetAssignee(), strconv.FormatInt(r.GetRouteId(), 10),
		strconv.FormatBool(r.GetSlaBreached()), strconv.FormatBool(r.GetStuck()), strconv.FormatBool(r.GetAwaitingVisit()),
		listOrder(r).String(), strings.TrimSpace(r.GetQuery()),
	}, "|")
}

// listOrder is the order a list asks for, UNSPECIFIED read as NEWEST.
func listOrder(r *taskv1.ListTasksRequest) taskv1.TaskOrder {
	if o := r.GetOrder(); o != taskv1.TaskOrder_TASK_ORDER_UNSPECIFIED {
		return o
	}
	return taskv1.TaskOrder_TASK_ORDER_NEWEST
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
