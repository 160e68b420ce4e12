package task

import (
	"context"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// A connection task exists because its workflow does, as a service task:
// the contract's connection workflow asks for the task's plan (its id and
// what its row will hold) and starts the task's workflow with it, whose
// first step writes the row and links the contract to it (RecordTask).

// PlanConnectionTask allocates a contract's connection task and answers it
// as its first step will write it; it writes nothing but the id's
// reservation, so a retried plan for the contract gets the same id.
func (s *Server) PlanConnectionTask(ctx context.Context, req *taskv1.PlanConnectionTaskRequest) (*taskv1.PlanConnectionTaskResponse, error) {
	n, route, err := s.connectionTask(ctx, req.GetContractId(), req.GetCreatedBy())
	if err != nil {
		return nil, err
	}
	if n.row.ID, err = s.store.allocate(ctx, "connection-"+strconv.FormatInt(n.row.ContractID, 10)); err != nil {
		return nil, err
	}
	n.row.CreatedAt = s.store.clock()
	row := firstStep(n)
	plan, err := s.routeForTask(ctx, n.route, route, route.Version)
	if err != nil {
		return nil, err
	}
	return &taskv1.PlanConnectionTaskResponse{Task: row.toProto(), Route: plan, ActorName: n.actor}, nil
}

// CreateConnectionTask writes a contract's connection task, or finds the
// one written before, for connection runs started before tasks were
// written by their own workflows.
func (s *Server) CreateConnectionTask(ctx context.Context, req *taskv1.CreateConnectionTaskRequest) (*taskv1.CreateConnectionTaskResponse, error) {
	n, route, err := s.connectionTask(ctx, req.GetContractId(), req.GetCreatedBy())
	if err != nil {
		return nil, err
	}
	cid := n.row.ContractID
	n.row.ConnectionContractID = &cid
	row, existed, err := s.store.create(ctx, n)
	if err != nil {
		return nil, err
	}
	if err := s.linkContract(ctx, row); err != nil {
		return nil, err
	}
	def := n.route
	if existed {
		if def, err = s.routes.definition(ctx, row.RouteID, row.RouteVersion); err != nil {
			return nil, err
		}
		route.Version = row.RouteVersion
	}
	s.notices.kick()
	return &taskv1.CreateConnectionTaskResponse{Task: row.toProto(), Route: def.toProto(route, route.Version)}, nil
}

// connectionTask is a contract's connection task as it is to be written,
// on the current version of route No. 1, still without its id.
func (s *Server) connectionTask(ctx context.Context, contractID, createdBy int64) (newTask, routeRow, error) {
	contract, err := s.contract(ctx, contractID)
	if err != nil {
		return newTask{}, routeRow{}, err
	}
	route, def, err := s.routes.current(ctx, ConnectionRouteID)
	if err != nil {
		return newTask{}, routeRow{}, err
	}
	cal, err := s.calendars.forGroup(ctx, def.Processes[0].GroupID)
	if err != nil {
		return newTask{}, routeRow{}, err
	}
	return newTask{calendar: cal, row: taskRow{
		Kind: int32(taskv1.TaskKind_TASK_KIND_CONNECTION), Title: connectionTitle(s.locale, contract.GetNumber()),
		Description: contract.GetAddress(), RouteID: route.ID, RouteVersion: route.Version, RouteName: def.Name,
		ContractID: contract.GetId(), ContractNumber: contract.GetNumber(), CustomerID: contract.GetCustomerId(),
		CustomerName: s.customerName(ctx, contract.GetCustomerId()), CreatedBy: createdBy,
	}, route: def, actor: s.userName(ctx, createdBy)}, route, nil
}

// linkContract tells a new connection task's contract its task, before its
// workflow answers the contract service: one that ends before it records
// the task itself would leave the contract without it for good. A contract
// removed meanwhile (its opening was undone) takes its new task with it.
func (s *Server) linkContract(ctx context.Context, row *taskRow) error {
	_, err := s.contracts.SetConnectionTask(auth.AsService(ctx), &contractv1.SetConnectionTaskRequest{ContractId: row.ContractID, TaskId: row.ID})
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.NotFound && row.Sequence <= 1 {
		if derr := s.store.discard(context.WithoutCancel(ctx), row.ID); derr != nil {
			return derr
		}
		return fault.New(fault.FailedPrecondition, "contract %d is gone: its opening was undone", row.ContractID)
	}
	return err
}
