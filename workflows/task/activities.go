package task

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// ContractEffects changes a contract when a task closes.
type ContractEffects interface {
	Apply(ctx context.Context, contractID int64, effect taskv1.ContractEffect) error
}

// Activities hold what the task workflows' activities call: the task
// service (the read model) and the contract service.
type Activities struct {
	Tasks     taskv1.TaskServiceClient
	Contracts ContractEffects
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

// Retryable marks answers that no retry can change as final, so the
// workflow fails visibly instead of retrying forever.
func Retryable(err error) error {
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied, codes.Unimplemented:
		return temporal.NewNonRetryableApplicationError(status.Convert(err).Message(), status.Code(err).String(), err)
	}
	return err
}
