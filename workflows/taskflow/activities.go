package taskflow

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// ContractEffects changes a contract when a task closes.
type ContractEffects interface {
	Apply(ctx context.Context, contractID int64, effect taskv1.ContractEffect) error
}

// ContractActions change a contract as an automatic process says.
type ContractActions interface {
	Change(ctx context.Context, a ContractAction) error
}

// Activities hold what the task workflows' activities call: the task
// service (the read model), the contract service, the notifier, the
// webhooks' signing key, and what webhook subscriptions' deliveries use.
type Activities struct {
	Tasks     taskv1.TaskServiceClient
	Contracts ContractEffects
	// Actions of automatic processes.
	ContractActions ContractActions
	Notifier        notifierv1.NotifierServiceClient
	Webhooks        Webhooks
	Subscriptions   Subscriptions
}

// Apply writes one step of a task to the read model. The task service
// applies a step once, whatever the retries.
func (a *Activities) Apply(ctx context.Context, t *taskv1.Transition) (*taskv1.Task, error) {
	resp, err := a.Tasks.ApplyTransition(ctx, &taskv1.ApplyTransitionRequest{Transition: t})
	if err != nil {
		return nil, Retryable(err)
	}
	return resp.GetTask(), nil
}

// Record writes a service task's row: its workflow's first step.
func (a *Activities) Record(ctx context.Context, req *taskv1.RecordTaskRequest) (*taskv1.Task, error) {
	resp, err := a.Tasks.RecordTask(ctx, req)
	if err != nil {
		return nil, Retryable(err)
	}
	return resp.GetTask(), nil
}

// Discard removes a task whose first step may have been written with its
// answer lost, so no row stays without its workflow.
func (a *Activities) Discard(ctx context.Context, taskID int64) error {
	_, err := a.Tasks.DiscardTask(ctx, &taskv1.DiscardTaskRequest{Id: taskID})
	return Retryable(err)
}

// MarkStuck tells the read model whether the task is stuck.
func (a *Activities) MarkStuck(ctx context.Context, req *taskv1.SetTaskStuckRequest) error {
	fitted := proto.CloneOf(req)
	fitted.Reason = fitReason(req.GetReason())
	_, err := a.Tasks.SetTaskStuck(ctx, fitted)
	return Retryable(err)
}

// maxStuckReason is the request's limit for a stuck mark's reason.
const maxStuckReason = 500

// fitReason makes an error's text, whatever it holds, fit a stuck mark:
// control characters become spaces and it is cut to the limit.
func fitReason(s string) string {
	r := []rune(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " ")))
	return strings.TrimSpace(string(r[:min(len(r), maxStuckReason)]))
}

// ApplyContractEffect changes the task's contract as its route says.
// The contract service's status changes are idempotent.
func (a *Activities) ApplyContractEffect(ctx context.Context, contractID int64, effect taskv1.ContractEffect) error {
	return Retryable(a.Contracts.Apply(ctx, contractID, effect))
}

// ContractActivate, ContractSuspend, ContractResume, ContractTerminate and
// ContractChangeTariff are the CONTRACT actions, one activity type each so
// the history names what was done. The contract service's changes are
// idempotent; its refusals (a terminated contract, a closed tariff) are
// final.
func (a *Activities) ContractActivate(ctx context.Context, c ContractAction) error {
	return a.contract(ctx, c, taskv1.ContractOperation_CONTRACT_OPERATION_ACTIVATE)
}

func (a *Activities) ContractSuspend(ctx context.Context, c ContractAction) error {
	return a.contract(ctx, c, taskv1.ContractOperation_CONTRACT_OPERATION_SUSPEND)
}

func (a *Activities) ContractResume(ctx context.Context, c ContractAction) error {
	return a.contract(ctx, c, taskv1.ContractOperation_CONTRACT_OPERATION_RESUME)
}

func (a *Activities) ContractTerminate(ctx context.Context, c ContractAction) error {
	return a.contract(ctx, c, taskv1.ContractOperation_CONTRACT_OPERATION_TERMINATE)
}

func (a *Activities) ContractChangeTariff(ctx context.Context, c ContractAction) error {
	if c.TariffID <= 0 {
		return temporal.NewNonRetryableApplicationError("the task was opened without the tariff to change to", "InvalidArgument", nil)
	}
	return a.contract(ctx, c, taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF)
}

func (a *Activities) contract(ctx context.Context, c ContractAction, op taskv1.ContractOperation) error {
	c.Operation = op
	return Retryable(a.ContractActions.Change(ctx, c))
}

// NotifyGroup tells a group's members, through the notifier (which sends
// an event once, however often it is queued).
func (a *Activities) NotifyGroup(ctx context.Context, n GroupNotice) error {
	_, err := a.Notifier.EnqueueTaskEvent(ctx, &notifierv1.EnqueueTaskEventRequest{Notice: &notifierv1.TaskNotice{
		EventId: n.EventID, Kind: taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, Time: timestamppb.Now(),
		TaskId: n.TaskID, TaskNumber: n.Number, TaskKind: n.Kind, TaskState: taskv1.TaskState_TASK_STATE_OPEN,
		CustomerId: n.CustomerID, ContractId: n.ContractID, RouteId: n.RouteID, RouteName: n.RouteName,
		ProcessName: n.Process, ProcessId: n.ProcessID, GroupIds: []int64{n.GroupID}, ActorName: n.Process, Text: n.Message,
	}})
	return Retryable(err)
}

// Retryable marks answers that no retry can change as final, so the
// workflow fails visibly instead of retrying forever.
func Retryable(err error) error {
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition, codes.PermissionDenied, codes.Unimplemented:
		return temporal.NewNonRetryableApplicationError(status.Convert(err).Message(), status.Code(err).String(), err)
	}
	return err
}
