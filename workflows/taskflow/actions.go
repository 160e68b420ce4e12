package taskflow

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/workflows/queueorder"
)

// Processes that act. An automatic process runs its action when the task
// enters it — a named activity (ContractChangeTariff, NotifyGroup,
// CallWebhook…) whose summary names the process, or for WAIT a durable
// timer — and moves the task on when the action succeeds. A target that
// refuses (a terminated contract, a webhook's 4xx) fails the activity for
// good: the refusal goes on the task's timeline (ACTION_FAILED) and the
// task goes to the route's failure process, or stays and is stuck until a
// retry. Anything else (a 5xx, a timeout, a service down) is retried with
// backoff for as long as it takes; meanwhile the activity is pending with
// its last error, which the task service shows as "waiting on action".
// Every process a task enters is named in its history: automatic ones by
// their activity or timer, manual ones by a side-effect marker whose
// summary names the process (a marker costs one event and no round trip,
// unlike a local activity, and the Web UI lists it with its summary).

// Activity type names of the actions.
const (
	ActivityContractActivate     = "ContractActivate"
	ActivityContractSuspend      = "ContractSuspend"
	ActivityContractResume       = "ContractResume"
	ActivityContractTerminate    = "ContractTerminate"
	ActivityContractChangeTariff = "ContractChangeTariff"
	ActivityNotifyGroup          = "NotifyGroup"
	ActivityCallWebhook          = "CallWebhook"
	// ActionWait names a WAIT process's timer (not an activity).
	ActionWait = "Wait"
)

// ActionName is the activity (or timer) an action runs as.
func ActionName(a *Action) string {
	switch a.Kind {
	case taskv1.ActionKind_ACTION_KIND_WAIT:
		return ActionWait
	case taskv1.ActionKind_ACTION_KIND_NOTIFY_GROUP:
		return ActivityNotifyGroup
	case taskv1.ActionKind_ACTION_KIND_WEBHOOK:
		return ActivityCallWebhook
	}
	switch a.Operation {
	case taskv1.ContractOperation_CONTRACT_OPERATION_ACTIVATE:
		return ActivityContractActivate
	case taskv1.ContractOperation_CONTRACT_OPERATION_SUSPEND:
		return ActivityContractSuspend
	case taskv1.ContractOperation_CONTRACT_OPERATION_RESUME:
		return ActivityContractResume
	case taskv1.ContractOperation_CONTRACT_OPERATION_TERMINATE:
		return ActivityContractTerminate
	}
	return ActivityContractChangeTariff
}

// ActionFromProto snapshots a process's action; nil for a manual process.
func ActionFromProto(p *taskv1.Process) *Action {
	if p.GetKind() != taskv1.ProcessKind_PROCESS_KIND_AUTOMATIC || p.GetAction() == nil {
		return nil
	}
	a := p.GetAction()
	out := &Action{
		Kind: a.GetKind(), Operation: a.GetContractOperation(), WaitSeconds: a.GetWaitSeconds(),
		GroupID: a.GetGroupId(), Message: a.GetMessage(), URL: a.GetWebhookUrl(),
		OnFailure: a.GetOnFailure(), FailureProcessID: a.GetFailureProcessId(),
	}
	if a.GetWaitUntil() != nil {
		out.WaitUntil = a.GetWaitUntil().AsTime()
	}
	return out
}

// NeedsTariff tells whether a route changes its contract's tariff: its
// tasks are opened with the tariff chosen.
func (r Route) NeedsTariff() bool {
	for _, p := range r.Processes {
		if p.Action != nil && p.Action.Kind == taskv1.ActionKind_ACTION_KIND_CONTRACT && p.Action.Operation == taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF {
			return true
		}
	}
	return false
}

// ContractAction is a CONTRACT action's call.
type ContractAction struct {
	ContractID int64
	Operation  taskv1.ContractOperation
	TariffID   int64
}

// GroupNotice is a NOTIFY_GROUP action's call; EventID makes a retried
// call one notice.
type GroupNotice struct {
	EventID    string
	TaskID     int64
	Number     string
	Kind       taskv1.TaskKind
	ContractID int64
	CustomerID int64
	RouteID    int64
	RouteName  string
	ProcessID  int64
	Process    string
	GroupID    int64
	Message    string
}

// WebhookCall is a WEBHOOK action's call: where, and the event it posts.
type WebhookCall struct {
	URL   string
	Event WebhookEvent
}

// WebhookEvent is the JSON body a webhook receives.
type WebhookEvent struct {
	// ID is the same for every attempt: receivers drop repeats by it.
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Time       time.Time `json:"time"`
	TaskID     int64     `json:"taskId"`
	TaskNumber string    `json:"taskNumber"`
	ContractID int64     `json:"contractId"`
	CustomerID int64     `json:"customerId"`
	RouteID    int64     `json:"routeId"`
	Route      string    `json:"route"`
	ProcessID  int64     `json:"processId"`
	Process    string    `json:"process"`
	TariffID   int64     `json:"tariffId,omitempty"`
}

// Retries of an action that failed for a reason a retry may cure: soon at
// first, then every five minutes for as long as it takes (a person sees
// the task waiting on it, and may cancel the task). (A variable so a test
// can shorten it.)
var actionRetry = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute}

// actsVersion marks the runs that know automatic processes and name the
// processes they enter; runs recorded before have neither.
func (w *taskWorkflow) actsVersion(ctx workflow.Context) bool {
	return w.takes.Has(ctx, "process-actions")
}

// automatic tells whether the current process runs on its own.
func (w *taskWorkflow) automatic() bool { return w.open() && w.current().Action != nil }

// nameProcess records entering the current process in the history, for a
// manual one (an automatic one is named by its action).
func (w *taskWorkflow) nameProcess(ctx workflow.Context, from string) {
	if !w.open() || !w.actsVersion(ctx) || w.current().Action != nil {
		return
	}
	p := w.current()
	summary := "Process: " + p.Name
	if from != "" {
		summary += " (from " + from + ")"
	}
	workflow.SideEffectWithOptions(ctx, workflow.SideEffectOptions{Summary: summary}, func(workflow.Context) any { return p.ID })
}

// act runs the current automatic process's action, then writes where it
// leads. A task cancelled meanwhile stops the action.
func (w *taskWorkflow) act(ctx workflow.Context) error {
	if w.st.Acting {
		w.actsVersion(ctx)
		err := w.runAction(ctx)
		if !w.open() {
			w.st.Acting = false
			return nil
		}
		if err != nil && temporal.IsCanceledError(err) {
			return err
		}
		w.st.Acting, w.st.Acted, w.st.ActionError = false, true, ""
		if err != nil {
			w.st.ActionError = ActionName(w.current().Action) + ": " + failure(err)
		}
	}
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if w.stuck() || !w.open() || !w.st.Acted {
		return nil // a stuck task writes the step when it recovers
	}
	if err := w.afterAction(ctx); err != nil {
		w.becomeStuck(ctx, err)
	}
	return nil
}

// runAction runs the action of the process the task is in until it
// succeeds or is refused; the task closing cancels it.
func (w *taskWorkflow) runAction(ctx workflow.Context) error {
	p := w.current()
	a := p.Action
	actx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	done := false
	defer func() { done = true }()
	workflow.Go(ctx, func(ctx workflow.Context) {
		if workflow.Await(ctx, func() bool { return done || !w.open() }) == nil && !done {
			cancel()
		}
	})
	if a.Kind == taskv1.ActionKind_ACTION_KIND_WAIT {
		until := w.waitUntil(a)
		w.waiting = until
		defer func() { w.waiting = time.Time{} }()
		d := until.Sub(workflow.Now(ctx))
		if d <= 0 {
			return nil
		}
		return workflow.NewTimerWithOptions(actx, d, workflow.TimerOptions{Summary: ActionWait + ": " + p.Name}).Get(actx, nil)
	}
	actx = workflow.WithActivityOptions(actx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &actionRetry,
		Summary:             p.Name,
		Priority:            queueorder.Automatic,
	})
	var arg any
	switch a.Kind {
	case taskv1.ActionKind_ACTION_KIND_CONTRACT:
		arg = ContractAction{ContractID: w.in.ContractID, Operation: a.Operation, TariffID: w.in.Params.TariffID}
	case taskv1.ActionKind_ACTION_KIND_NOTIFY_GROUP:
		arg = GroupNotice{
			EventID: w.actionID(), TaskID: w.in.TaskID, Number: w.in.Number, Kind: w.in.Kind, ContractID: w.in.ContractID, CustomerID: w.in.CustomerID,
			RouteID: w.in.Route.ID, RouteName: w.in.Route.Name, ProcessID: p.ID, Process: p.Name, GroupID: a.GroupID, Message: a.Message,
		}
	case taskv1.ActionKind_ACTION_KIND_WEBHOOK:
		arg = WebhookCall{URL: a.URL, Event: WebhookEvent{
			ID: w.actionID(), Type: "task.process", Time: w.st.EnteredAt.UTC(), TaskID: w.in.TaskID, TaskNumber: w.in.Number,
			ContractID: w.in.ContractID, CustomerID: w.in.CustomerID, RouteID: w.in.Route.ID, Route: w.in.Route.Name,
			ProcessID: p.ID, Process: p.Name, TariffID: w.in.Params.TariffID,
		}}
	default:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("process %q has no action this version runs", p.Name), "UnknownAction", nil)
	}
	return workflow.ExecuteActivity(actx, ActionName(a), arg).Get(actx, nil)
}

// actionID names one run of an action: the task, and the step that
// entered the process.
func (w *taskWorkflow) actionID() string {
	return fmt.Sprintf("task-%d/%d.action", w.in.TaskID, w.st.Sequence)
}

// waitUntil is when a WAIT process's timer fires.
func (w *taskWorkflow) waitUntil(a *Action) time.Time {
	if !a.WaitUntil.IsZero() {
		return a.WaitUntil
	}
	return w.st.EnteredAt.Add(time.Duration(a.WaitSeconds) * time.Second)
}

// afterAction writes the step an action's end leads to (the caller holds
// the lock): on to the next process (or closed, after the last), or — the
// action refused — to the failure process, or stuck where it is.
func (w *taskWorkflow) afterAction(ctx workflow.Context) error {
	from := w.current()
	next := w.st.clone()
	next.Acted, next.ActionError, next.LastActivity = false, "", workflow.Now(ctx)
	if w.st.ActionError == "" {
		if next.Position == len(w.in.Route.Processes)-1 {
			_, err := w.close(ctx, next, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, taskv1.TaskState_TASK_STATE_CLOSED, "ROUTE_COMPLETED", Actor{}, "", "")
			return err
		}
		w.enter(ctx, &next, next.Position+1)
		t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED)
		t.FromProcessId, t.NotifyGroupIds = from.ID, groups(from.GroupID, w.at(&next).GroupID)
		_, err := w.write(ctx, next, t)
		return err
	}
	reason := w.st.ActionError
	if i := w.in.Route.index(from.Action.FailureProcessID); from.Action.OnFailure == taskv1.FailureRule_FAILURE_RULE_GO_TO_PROCESS && i >= 0 {
		w.enter(ctx, &next, i)
		t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_ACTION_FAILED)
		t.FromProcessId, t.Text, t.NotifyGroupIds = from.ID, fitReason(reason), groups(from.GroupID, w.at(&next).GroupID)
		_, err := w.write(ctx, next, t)
		return err
	}
	next.ActionRefused = true
	t := w.step(ctx, &next, taskv1.TaskEventKind_TASK_EVENT_KIND_ACTION_FAILED)
	t.FromProcessId, t.Text, t.NotifyGroupIds, t.NotifySupervisors = from.ID, fitReason(reason), []int64{from.GroupID}, true
	if _, err := w.write(ctx, next, t); err != nil {
		return err
	}
	w.becomeStuck(ctx, errors.New(reason))
	return nil
}
