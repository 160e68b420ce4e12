package task

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// ReopenTask opens an ended service task again (see taskflow's reopen):
// the person says why; the task must have ended within the deployment's
// period; the caller works in the process's group or manages tasks. A
// connection is not reopened — its contract has moved on; a service task
// on the contract serves instead.
func (s *Server) ReopenTask(ctx context.Context, req *taskv1.ReopenTaskRequest) (*taskv1.ReopenTaskResponse, error) {
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		return nil, fault.Field("reason", "say why the task is opened again")
	}
	row, err := s.store.get(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	switch {
	case row.State == int32(taskv1.TaskState_TASK_STATE_OPEN):
		return nil, fault.New(fault.FailedPrecondition, "task %s is open", row.Number)
	case row.Kind == int32(taskv1.TaskKind_TASK_KIND_CONNECTION):
		return nil, fault.New(fault.FailedPrecondition, "connection %s is not reopened: its contract has moved on; open a service task on the contract", row.Number)
	case s.reopenWithin <= 0:
		return nil, fault.New(fault.FailedPrecondition, "tasks are not reopened in this deployment")
	case s.reopenUntil(row).IsZero():
		return nil, fault.New(fault.FailedPrecondition, "task %s ended on %s; tasks are reopened within %s of their end",
			row.Number, time.UnixMicro(row.ClosedAt).UTC().Format("2006-01-02"), days(s.reopenWithin)).Because("REOPEN_TOO_LATE", nil)
	}
	def, err := s.routes.definition(ctx, row.RouteID, row.RouteVersion)
	if err != nil {
		return nil, err
	}
	processID := cmp.Or(req.GetProcessId(), row.ProcessID)
	p, pos, ok := def.process(processID)
	if !ok {
		return nil, fault.Field("processId", "process %d is not on the task's route", processID)
	}
	who := actor(ctx)
	if !who.CanManage && !slices.Contains(who.Groups, p.GroupID) {
		return nil, fault.New(fault.PermissionDenied, "only the group of %q or a supervisor opens the task again there", p.Name)
	}
	var r routeRow
	if err := s.store.db.WithContext(ctx).Take(&r, row.RouteID).Error; err != nil {
		return nil, err
	}
	plan, err := s.routeForTask(ctx, def, r, row.RouteVersion)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.visitedGroups(ctx, row.ID, def)
	if err != nil {
		return nil, err
	}
	state := taskv1.TaskState(row.State)
	step, err := s.flows.Reopen(ctx, taskflow.Input{
		TaskID: row.ID, Number: row.Number, Kind: taskv1.TaskKind(row.Kind), ContractID: row.ContractID, CustomerID: row.CustomerID, CreatedBy: row.CreatedBy,
		Route: taskflow.RouteFromProto(plan), Params: taskflow.Params{TariffID: row.TariffID},
		State: taskflow.State{
			Position: pos, Sequence: row.Sequence, Groups: groups, Outcome: state, Reason: row.CloseReason,
			Priority: taskv1.TaskPriority(row.Priority), EnteredAt: time.UnixMicro(row.ClosedAt), LastActivity: time.UnixMicro(row.ClosedAt),
		},
		Reopen: &taskflow.Reopen{Actor: who, ProcessID: p.ID, Reason: reason, After: row.Sequence},
	})
	if err != nil {
		return nil, reopenError(row, err)
	}
	s.confirm(ctx, row.ID, step.Sequence)
	s.audit(ctx, "task.reopen", "task:"+strconv.FormatInt(row.ID, 10), "task_step", "number", row.Number, "process", p.Name)
	return &taskv1.ReopenTaskResponse{Task: s.respond(ctx, step)}, nil
}

// reopenUntil is until when an ended service task may be opened again
// (zero: it may not).
func (s *Server) reopenUntil(row *taskRow) time.Time {
	if row.State == int32(taskv1.TaskState_TASK_STATE_OPEN) || row.Kind == int32(taskv1.TaskKind_TASK_KIND_CONNECTION) || s.reopenWithin <= 0 || row.ClosedAt == 0 {
		return time.Time{}
	}
	until := time.UnixMicro(row.ClosedAt).Add(s.reopenWithin)
	if time.Now().After(until) {
		return time.Time{}
	}
	return until.UTC()
}

// reopenError maps a reopening that did not happen to what people see.
func reopenError(row *taskRow, err error) error {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fault.New(fault.FailedPrecondition, "task %s is still finishing its end; try again in a moment", row.Number)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == taskflow.ErrNotWritten {
		return fault.New(fault.Unavailable, "%s", app.Message())
	}
	return commandError(row, err)
}

// days words a period in whole days ("14 days").
func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// visitedGroups are the groups of the processes a task has been in.
func (s *store) visitedGroups(ctx context.Context, taskID int64, def routeDef) ([]int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&eventRow{}).Where("task_id = ? AND process_id <> 0", taskID).Distinct().Pluck("process_id", &ids).Error; err != nil {
		return nil, err
	}
	var groups []int64
	for _, id := range ids {
		if p, _, ok := def.process(id); ok && !slices.Contains(groups, p.GroupID) {
			groups = append(groups, p.GroupID)
		}
	}
	slices.Sort(groups)
	return groups, nil
}
