package task

import (
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/micros"
)

func (r *taskRow) toProto() *taskv1.Task {
	t := &taskv1.Task{
		Id: r.ID, Number: r.Number, Kind: taskv1.TaskKind(r.Kind), State: taskv1.TaskState(r.State),
		Title: r.Title, Description: r.Description,
		RouteId: r.RouteID, RouteVersion: r.RouteVersion, RouteName: r.RouteName,
		CurrentProcess: &taskv1.Process{Id: r.ProcessID, Name: r.ProcessName, GroupId: r.ProcessGroupID, Position: r.ProcessPosition},
		ContractId:     r.ContractID, ContractNumber: r.ContractNumber,
		CustomerId: r.CustomerID, CustomerName: r.CustomerName,
		AssigneeId: r.AssigneeID, AssigneeName: r.AssigneeName,
		SlaDueAt: micros.Proto(r.SLADueAt), SlaBreached: r.SLABreached,
		CreateTime: micros.Proto(r.CreatedAt), UpdateTime: micros.Proto(r.UpdatedAt), ClosedAt: micros.Proto(r.ClosedAt),
		CloseReason: r.CloseReason, WorkflowId: r.WorkflowID, CreatedBy: r.CreatedBy,
		Stuck: r.Stuck, AwaitingVisit: r.AwaitingVisit, Priority: taskv1.TaskPriority(r.Priority),
	}
	if r.TariffID != 0 {
		t.Parameters = &taskv1.TaskParameters{TariffId: r.TariffID}
	}
	if r.Stuck {
		t.StuckReason, t.StuckSince = r.StuckReason, micros.Proto(r.StuckAt)
	}
	if r.Kind == int32(taskv1.TaskKind_TASK_KIND_CONNECTION) {
		if code, params, ok := titleMessage(r.Title); ok {
			t.TitleCode, t.TitleParams = code, params
		}
	}
	return t
}

func (e *eventRow) toProto() *taskv1.TaskEvent {
	ev := &taskv1.TaskEvent{
		Id: e.ID, TaskId: e.TaskID, Kind: taskv1.TaskEventKind(e.Kind), Time: micros.Proto(e.At),
		ActorId: e.ActorID, ActorName: e.ActorName, ProcessId: e.ProcessID, ProcessName: e.ProcessName,
		FromProcessId: e.FromProcessID, FromProcessName: e.FromProcessName, Text: e.Text,
		Resolution: e.Resolution, AssigneeId: e.AssigneeID, AssigneeName: e.AssigneeName,
	}
	// A creation's text is the task's title.
	if e.Kind == int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED) {
		if code, params, ok := titleMessage(e.Text); ok {
			ev.TextCode, ev.TextParams = code, params
		}
	}
	return ev
}

func (c *commentRow) toProto() *taskv1.Comment {
	return &taskv1.Comment{
		Id: c.ID, TaskId: c.TaskID, AuthorId: c.AuthorID, AuthorName: c.AuthorName, Text: c.Text,
		ProcessId: c.ProcessID, ProcessName: c.ProcessName, CreateTime: micros.Proto(c.CreatedAt),
		Audience: taskv1.CommentAudience(c.Audience),
	}
}
