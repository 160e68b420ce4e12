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
	contract, err := s.contract(ctx, req.GetContractId())
	if err != nil {
		return nil, err
	}
	route, def, err := s.routes.current(ctx, ConnectionRouteID)
	if err != nil {
		return nil, err
	}
	cid := contract.GetId()
	id, err := s.store.allocate(ctx, "connection-"+strconv.FormatInt(cid, 10))
	if err != nil {
		return nil, err
	}
	row := firstStep(newTask{row: taskRow{
		ID: id, Kind: int32(taskv1.TaskKind_TASK_KIND_CONNECTION), Title: connectionTitle(s.locale, contract.GetNumber()),
		Description: contract.GetAddress(), RouteID: route.ID, RouteVersion: route.Version, RouteName: def.Name,
		ContractID: cid, ContractNumber: contract.GetNumber(), CustomerID: contract.GetCustomerId(),
		CustomerName: s.customerName(ctx, contract.GetCustomerId()), CreatedBy: req.GetCreatedBy(),
		CreatedAt: s.store.clock(),
	}, route: def})
	return &taskv1.PlanConnectionTaskResponse{
		Task: row.toProto(), Route: def.toProto(route, route.Version), ActorName: s.userName(ctx, req.GetCreatedBy()),
	}, nil
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
