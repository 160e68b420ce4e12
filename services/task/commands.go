package task

import (
	"context"
	"strconv"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

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

// SetTaskPriority changes how urgent a task is (supervisors; the workflow
// checks the caller may manage tasks).
func (s *Server) SetTaskPriority(ctx context.Context, req *taskv1.SetTaskPriorityRequest) (*taskv1.SetTaskPriorityResponse, error) {
	step, err := s.command(ctx, req.GetId(), taskflow.UpdatePriority, taskflow.SetPriority{Actor: actor(ctx), Priority: req.GetPriority()})
	if err != nil {
		return nil, err
	}
	return &taskv1.SetTaskPriorityResponse{Task: s.respond(ctx, step)}, nil
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
	who := actor(ctx)
	if req.GetAudience() == taskv1.CommentAudience_COMMENT_AUDIENCE_FROM_CUSTOMER {
		if !who.Service {
			return nil, fault.New(fault.PermissionDenied, "the customer's comments come from the customer's channel only")
		}
		row, err := s.store.get(ctx, req.GetTaskId())
		if err != nil {
			return nil, err
		}
		who.Name = row.CustomerName
	}
	step, err := s.command(ctx, req.GetTaskId(), taskflow.UpdateComment, taskflow.Comment{Actor: who, Text: req.GetText(), Audience: req.GetAudience()})
	if err != nil {
		return nil, err
	}
	c, err := s.store.comment(ctx, req.GetTaskId(), step.Sequence)
	if err != nil {
		return nil, err
	}
	return &taskv1.AddCommentResponse{Comment: c.toProto()}, nil
}

// RetryTask asks a stuck task's workflow to write its pending work now.
// A closed task may be stuck too (its contract effect), so the read
// model's state is not checked.
func (s *Server) RetryTask(ctx context.Context, req *taskv1.RetryTaskRequest) (*taskv1.RetryTaskResponse, error) {
	row, err := s.store.get(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	step, err := s.flows.Send(ctx, row.ID, taskflow.UpdateRetry, taskflow.Retry{Actor: actor(ctx)})
	if err != nil {
		if taskflow.IsGone(err) {
			return nil, fault.New(fault.FailedPrecondition, "task %s is not stuck; there is nothing to retry", row.Number)
		}
		return nil, commandError(row, err)
	}
	s.confirm(ctx, row.ID, step.Sequence)
	s.audit(ctx, "task.retry", "task:"+strconv.FormatInt(row.ID, 10), "task_number", "number", row.Number)
	return &taskv1.RetryTaskResponse{Task: s.respond(ctx, taskflow.Step{Task: row.toProto()})}, nil
}
