package task

import (
	"context"
	"fmt"
	"log/slog"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/micros"
)

// forwarder hands each task step's notice to the notifier. A step is
// written with its notice unsent in the same transaction, so a notice
// survives any crash; the forwarder sends it (the notifier ignores an
// event it has already queued) and then marks it sent.
//
// Temporal does not carry these notices: the step's row and its notice
// commit together in the task service, whichever path wrote the step (a
// workflow's step, a task's first write, a stuck mark), and a notice per
// step as an activity would add its events to every task's history, which
// is what bounds a task's length and the cluster's throughput
// (PERFORMANCE.md), to deliver what one row here keeps as surely.
type forwarder struct {
	pump
	store    *store
	notifier notifierv1.NotifierServiceClient
}

func newForwarder(s *store, n notifierv1.NotifierServiceClient, log *slog.Logger) *forwarder {
	f := &forwarder{store: s, notifier: n}
	f.pump = newPump("cannot hand notices to the notifier; retrying", f.flush, log)
	return f
}

// flush forwards one batch and tells how many notices went.
func (f *forwarder) flush(ctx context.Context) (int, error) {
	events, err := f.store.unsent(ctx, 100)
	if err != nil {
		return 0, err
	}
	tasks := map[int64]*taskRow{}
	for i, e := range events {
		t, ok := tasks[e.TaskID]
		if !ok {
			if t, err = f.store.get(ctx, e.TaskID); err != nil {
				return i, err
			}
			tasks[e.TaskID] = t
		}
		n := notice(t, &e)
		if e.VisitID != 0 {
			v, err := f.store.visit(ctx, e.VisitID)
			if err != nil {
				return i, err
			}
			n.Visit = v.toProto(nil)
		}
		if _, err := f.notifier.EnqueueTaskEvent(ctx, &notifierv1.EnqueueTaskEventRequest{Notice: n}); err != nil {
			return i, err
		}
		if err := f.store.markSent(ctx, e.ID); err != nil {
			return i, err
		}
	}
	return len(events), nil
}

// eventID names a step's notice for the notifier, which sends each event
// once: "task-12/7", or "task-12/7.1" for a step that replaced another at
// its sequence (whose notice may have gone out already).
func eventID(e *eventRow) string {
	if e.Revision > 0 {
		return fmt.Sprintf("task-%d/%d.%d", e.TaskID, e.Sequence, e.Revision)
	}
	return fmt.Sprintf("task-%d/%d", e.TaskID, e.Sequence)
}

func notice(t *taskRow, e *eventRow) *notifierv1.TaskNotice {
	n := &notifierv1.TaskNotice{
		EventId: eventID(e), Kind: taskv1.TaskEventKind(e.Kind), Time: micros.Proto(e.At),
		TaskId: t.ID, TaskNumber: t.Number, TaskTitle: t.Title, TaskKind: taskv1.TaskKind(t.Kind), TaskState: taskv1.TaskState(t.State),
		CustomerId: t.CustomerID, CustomerName: t.CustomerName, ContractId: t.ContractID, ContractNumber: t.ContractNumber,
		RouteId: t.RouteID, RouteName: t.RouteName, ProcessName: e.ProcessName, FromProcessName: e.FromProcessName,
		GroupIds: splitIDs(e.NotifyGroups), IncludeSupervisors: e.NotifySupervisors, UserIds: splitIDs(e.NotifyUsers),
		ActorId: e.ActorID, ActorName: e.ActorName, Text: e.Text, Resolution: e.Resolution,
		AssigneeId: e.AssigneeID, AssigneeName: e.AssigneeName, CommentAudience: taskv1.CommentAudience(e.Audience),
	}
	if t.State == int32(taskv1.TaskState_TASK_STATE_OPEN) {
		// buttons act on the task as it is now
		n.CurrentGroupId, n.ProcessId = t.ProcessGroupID, t.ProcessID
	}
	return n
}
