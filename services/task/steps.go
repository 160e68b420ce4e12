package task

import (
	"context"
	"strings"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
)

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
		Priority: int32(req.GetPriority()),
	}, route: def, actor: req.GetActorName()}
	if n.calendar, err = s.calendars.forGroup(ctx, def.Processes[0].GroupID); err != nil {
		return nil, err
	}
	if n.row.Priority == int32(taskv1.TaskPriority_TASK_PRIORITY_UNSPECIFIED) {
		n.row.Priority = int32(taskv1.TaskPriority_TASK_PRIORITY_NORMAL)
	}
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
	s.hooks.kick()
	return &taskv1.RecordTaskResponse{Task: row.toProto()}, nil
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
	// The step is pending: its notice and webhook event go once it is
	// confirmed (Server.confirm, or the forwarder's round), not now.
	row, dup, err := s.store.apply(ctx, t, assignee)
	if err != nil {
		return nil, err
	}
	return &taskv1.ApplyTransitionResponse{Task: row.toProto(), Duplicate: dup}, nil
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
