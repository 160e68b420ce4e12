// Package wizard is the new-connection wizard as a saga: a customer found
// or registered, a tariff chosen or ranked, a contract opened with its
// connection task. Each step is a named activity acting as the user who
// pressed the button; a step that fails for good undoes the earlier steps
// in reverse order (a customer this saga registered is removed), so the
// wizard never leaves half of a connection behind and nothing has to sweep
// up after it. The contract service starts the workflow with
// Update-with-Start and answers the REST call with the update's result.
package wizard

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

// WorkflowName is the workflow's registered type.
const WorkflowName = "ConnectionWizardWorkflow"

// UpdateResult answers the wizard's outcome: the customer and the contract,
// or why there are none.
const UpdateResult = "result"

// Error types the update answers with.
const (
	// ErrRefused: a step refused the request's data; the details hold a
	// Refusal with the service's answer.
	ErrRefused = "ConnectionRefused"
	// ErrUnavailable: a step's service did not answer within the saga's
	// patience; everything done before it was undone.
	ErrUnavailable = "ConnectionUnavailable"
)

// WorkflowID is the id of a wizard run named by key.
func WorkflowID(key string) string { return "wizard-" + key }

// Input is one press of the wizard's button.
type Input struct {
	// Actor is the user every step acts as.
	Actor   auth.Principal
	Request *contractv1.CreateConnectionRequest
}

// Refusal is a step's refusal: the step and the service's status, in
// protobuf wire form, so the caller gets the very answer the service gave.
type Refusal struct {
	Step   string
	Status []byte
}

// Step names, as the activities and the refusals name them.
const (
	StepRegisterCustomer = "RegisterCustomer"
	StepFindCustomer     = "FindCustomer"
	StepRankTariffs      = "RankTariffs"
	// StepOpenContract also names the refusals that are the request's own
	// fields as they are (no tariff fits the requirements).
	StepOpenContract = "OpenContract"
)

// Patience of the forward steps: a service that does not answer after a
// few quick tries fails the saga (which is then undone) rather than keep a
// person waiting at the form.
var stepRetry = temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 2 * time.Second, MaximumAttempts: 4}

// Compensations retry until they are done, however long a service is down.
var undoRetry = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}

// Workflow runs the saga.
func Workflow(ctx workflow.Context, in Input) (*contractv1.CreateConnectionResponse, error) {
	var (
		done   bool
		result *contractv1.CreateConnectionResponse
		failed error
	)
	if err := workflow.SetUpdateHandler(ctx, UpdateResult, func(ctx workflow.Context) (*contractv1.CreateConnectionResponse, error) {
		if err := workflow.Await(ctx, func() bool { return done }); err != nil {
			return nil, err
		}
		return result, failed
	}); err != nil {
		return nil, err
	}
	result, failed = run(ctx, in)
	done = true
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return nil, err
	}
	return result, failed
}

// saga is a run's compensations, undone last first.
type saga struct {
	undo []func(workflow.Context) error
}

func (s *saga) compensate(ctx workflow.Context) error {
	// a cancelled run still undoes what it did
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	for i := len(s.undo) - 1; i >= 0; i-- {
		if err := s.undo[i](ctx); err != nil {
			return err
		}
	}
	return nil
}

func run(ctx workflow.Context, in Input) (*contractv1.CreateConnectionResponse, error) {
	req := in.Request
	key := workflow.GetInfo(ctx).WorkflowExecution.ID
	step := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 45 * time.Second, RetryPolicy: &stepRetry})
	undo := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: &undoRetry})
	var (
		a        *Activities
		s        saga
		customer *customerv1.Customer
	)
	fail := func(err error) (*contractv1.CreateConnectionResponse, error) {
		workflow.GetLogger(ctx).Warn("connection not made; undoing its earlier steps", "error", err)
		if cerr := s.compensate(ctx); cerr != nil {
			return nil, cerr
		}
		return nil, answer(err)
	}

	if req.GetCustomer() != nil {
		if err := workflow.ExecuteActivity(step, a.RegisterCustomer, in.Actor, key, req.GetCustomer()).Get(ctx, &customer); err != nil {
			return fail(err)
		}
		id := customer.GetId()
		s.undo = append(s.undo, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(undo, a.RemoveCustomer, in.Actor, id).Get(ctx, nil)
		})
	} else if err := workflow.ExecuteActivity(step, a.FindCustomer, in.Actor, req.GetCustomerId()).Get(ctx, &customer); err != nil {
		return fail(err)
	}

	tariffID := req.GetTariffId()
	if tariffID == 0 {
		if err := workflow.ExecuteActivity(step, a.RankTariffs, in.Actor, customer.GetKind(), req.GetRequirements()).Get(ctx, &tariffID); err != nil {
			return fail(err)
		}
	}

	var contract *contractv1.Contract
	open := &contractv1.CreateContractRequest{CustomerId: customer.GetId(), TariffId: tariffID, Address: req.GetAddress()}
	if err := workflow.ExecuteActivity(step, a.OpenContract, in.Actor, key, open).Get(ctx, &contract); err != nil {
		// The contract service removes a contract whose connection did not
		// start; one that did start holds its customer, which then stays.
		return fail(err)
	}
	return &contractv1.CreateConnectionResponse{Customer: customer, Contract: contract}, nil
}

// answer turns a step's failure into what the update answers: the
// service's refusal as it was, or "unavailable" for a service that did not
// answer in time.
func answer(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == ErrRefused {
		var r Refusal
		if app.Details(&r) == nil {
			return temporal.NewNonRetryableApplicationError(app.Message(), ErrRefused, nil, r)
		}
	}
	return temporal.NewNonRetryableApplicationError(innermost(err), ErrUnavailable, nil)
}

// innermost is the message of an error's deepest cause: a service's own
// words rather than Temporal's wrapping of them.
func innermost(err error) string {
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(err) {
		err = next
	}
	return err.Error()
}
