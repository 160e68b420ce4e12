package task

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/workflows/taskflow"
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
//
// A step a workflow wrote waits until its history is known to hold it
// (store.confirm): a command's step is confirmed as its update completes;
// the forwarder asks the workflow about the rest once they are a second
// old.
type forwarder struct {
	pump
	store    *store
	notifier notifierv1.NotifierServiceClient
	// sequence asks a task's workflow for the last step its history holds.
	sequence func(ctx context.Context, taskID int64) (int64, error)
	// confirmAfter and abandonAfter are the waits below (tests shorten
	// them).
	confirmAfter, abandonAfter time.Duration
	log                        *slog.Logger
}

const (
	// confirmAfter is how old a pending step is before the forwarder asks
	// its workflow about it: a command's step is confirmed sooner.
	confirmAfter = time.Second
	// abandonAfter is how long a pending step the history lacks is waited
	// for: far past a workflow task's timeout, so its workflow task is
	// recorded or lost by then.
	abandonAfter = time.Minute
	// askWait bounds a round of questions to the workflows.
	askWait = 5 * time.Second
)

func newForwarder(s *store, n notifierv1.NotifierServiceClient, sequence func(context.Context, int64) (int64, error), log *slog.Logger) *forwarder {
	f := &forwarder{store: s, notifier: n, sequence: sequence, confirmAfter: confirmAfter, abandonAfter: abandonAfter, log: log}
	f.pump = newPump("cannot hand notices to the notifier; retrying", f.flush, log)
	return f
}

// flush confirms what it can of the pending steps, then forwards one batch
// of notices, and tells how many steps it confirmed and notices went.
func (f *forwarder) flush(ctx context.Context) (int, error) {
	confirmed, err := f.confirmPending(ctx)
	if err != nil {
		return 0, err
	}
	sent, err := f.forward(ctx)
	return confirmed + sent, err
}

// confirmPending asks the workflows of steps pending for over a second
// which of them their histories hold.
func (f *forwarder) confirmPending(ctx context.Context) (int, error) {
	now := time.Now()
	steps, err := f.store.pendingSteps(ctx, now.Add(-f.confirmAfter).UnixMicro(), 50)
	if err != nil || len(steps) == 0 {
		return 0, err
	}
	held := f.ask(ctx, steps)
	confirmed := 0
	for i := range steps {
		e := &steps[i]
		seq, ok := held[e.TaskID]
		switch {
		case !ok:
			// Temporal down or the worker away: asked again next round
		case seq >= e.Sequence:
			n, err := f.store.confirm(ctx, e.TaskID, seq)
			if err != nil {
				return confirmed, err
			}
			confirmed += int(n)
			delete(held, e.TaskID) // its later steps are confirmed with it
		case now.Sub(time.UnixMicro(e.At)) > f.abandonAfter:
			f.log.Warn("a task's step its workflow never recorded is dropped", "task", e.TaskID, "sequence", e.Sequence)
			if err := f.store.abandon(ctx, e); err != nil {
				return confirmed, err
			}
		}
	}
	return confirmed, nil
}

// ask asks the workflows of the steps' tasks, a few at once and within
// askWait all told, which step each history holds last (0: no workflow
// holds any); a task whose workflow did not answer is left out.
func (f *forwarder) ask(ctx context.Context, steps []eventRow) map[int64]int64 {
	ctx, cancel := context.WithTimeout(ctx, askWait)
	defer cancel()
	var (
		mu   sync.Mutex
		held = map[int64]int64{}
		g    errgroup.Group
	)
	g.SetLimit(8)
	asked := map[int64]bool{}
	for _, e := range steps {
		if asked[e.TaskID] {
			continue
		}
		asked[e.TaskID] = true
		g.Go(func() error {
			seq, err := f.sequence(ctx, e.TaskID)
			switch {
			case taskflow.IsGone(err):
				seq = 0
			case err != nil:
				f.log.Debug("cannot ask a task's workflow which steps it holds", "task", e.TaskID, "err", err)
				return nil
			}
			mu.Lock()
			held[e.TaskID] = seq
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return held
}

// forward hands one batch of confirmed steps' notices to the notifier.
func (f *forwarder) forward(ctx context.Context) (int, error) {
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
	if e.State != 0 {
		// a notice forwarded after later steps (its step confirmed late,
		// or the notifier away) tells of its own step: one that closed
		// nothing is no close to the customer
		n.TaskState = taskv1.TaskState(e.State)
	}
	if t.State == int32(taskv1.TaskState_TASK_STATE_OPEN) {
		// buttons act on the task as it is now
		n.CurrentGroupId, n.ProcessId = t.ProcessGroupID, t.ProcessID
	}
	return n
}
