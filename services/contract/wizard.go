package contract

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/workflows/wizard"
)

// Wizard implements contractv1.ConnectionServiceServer: one call from a
// customer to a contract with its connection task. It checks what it can
// of the request, then runs the wizard's saga (workflows/wizard) and
// answers its outcome; the saga undoes its own steps when one fails, so
// the service never repairs a half-made connection afterwards.
type Wizard struct {
	contractv1.UnimplementedConnectionServiceServer
	contracts *Server
	saga      Saga
	tasks     taskv1.TaskServiceClient
	log       *slog.Logger
}

// Saga runs the wizard's workflow named key (a retry with the same key
// joins the run) and answers its outcome. The production one is
// wizard.Starter, an Update-with-Start of the workflow "wizard-<key>".
type Saga interface {
	Connect(ctx context.Context, key string, in wizard.Input) (*contractv1.CreateConnectionResponse, error)
}

// NewWizard builds the wizard over the contract service, the saga that
// does the work, and the task service it reads the new task from.
func NewWizard(contracts *Server, saga Saga, tasks taskv1.TaskServiceClient, log *slog.Logger) *Wizard {
	return &Wizard{contracts: contracts, saga: saga, tasks: tasks, log: log}
}

func (w *Wizard) CreateConnection(ctx context.Context, req *contractv1.CreateConnectionRequest) (*contractv1.CreateConnectionResponse, error) {
	p, _ := auth.From(ctx)
	newCustomer := req.GetCustomer() != nil
	switch {
	case newCustomer && req.GetCustomerId() != 0:
		return nil, fault.Field("customerId", "give a new customer or a registered one's id, not both")
	case !newCustomer && req.GetCustomerId() == 0:
		return nil, fault.Field("customer", "give the customer: a new one, or a registered one's id")
	case newCustomer && !p.Can("customers.write"):
		return nil, fault.New(fault.PermissionDenied, "you lack the permission customers.write to register a customer")
	case req.GetTariffId() == 0 && req.GetRequirements() == nil:
		return nil, fault.Field("tariffId", "choose a tariff, or give requirements to find one")
	case strings.TrimSpace(req.GetAddress()) == "":
		return nil, fault.Field("address", "the service address is empty")
	}
	// A chosen tariff is the contract service's own data: a wrong one is
	// refused before anything is written (its kind is checked now when the
	// customer is new, by the contract step otherwise).
	if id := req.GetTariffId(); id != 0 {
		kind := customerv1.CustomerKind_CUSTOMER_KIND_UNSPECIFIED
		if newCustomer {
			kind = kindOrPerson(req.GetCustomer().GetKind())
		}
		if err := w.contracts.offered(ctx, id, kind); err != nil {
			return nil, err
		}
	}
	key := idempotency.UpdateID(ctx, "create-connection")
	if key == "" {
		key = rand.Text()
	}
	actor := *p
	actor.Expires = 0
	out, err := w.saga.Connect(ctx, key, wizard.Input{Actor: actor, Request: req})
	if err != nil {
		return nil, sagaError(err)
	}
	if id := out.GetContract().GetConnectionTaskId(); id != 0 {
		if t, err := w.tasks.GetTask(ctx, &taskv1.GetTaskRequest{Id: id}); err == nil {
			out.Task = t.GetTask()
		} // else the contract and its connection stand; only the answer is short
	}
	return out, nil
}

// sagaError answers a saga that made no connection as its refusing step
// did — a new customer's mistakes named under "customer", ranking's under
// "requirements" — or, when a service did not answer, as unavailable.
func sagaError(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		switch app.Type() {
		case wizard.ErrRefused:
			var r wizard.Refusal
			var st spb.Status
			if app.Details(&r) == nil && proto.Unmarshal(r.Status, &st) == nil {
				refused := status.FromProto(&st).Err()
				switch r.Step {
				case wizard.StepRegisterCustomer:
					return under("customer", refused)
				case wizard.StepRankTariffs:
					return under("requirements", refused)
				}
				return refused
			}
		case wizard.ErrUnavailable:
			return fault.New(fault.Unavailable, "the connection could not be made, and nothing of it was kept: %s; try again in a moment", app.Message())
		}
	}
	if st, ok := status.FromError(err); ok && st.Code() == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) || fault.Unreachable(err) {
		return fault.New(fault.Unavailable, "the connection wizard does not answer; try again in a moment")
	}
	return err
}

// under moves a neighbour's field violations under the request field they
// came from ("phones[0].number" → "customer.phones[0].number").
func under(prefix string, err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument && st.Code() != codes.AlreadyExists {
		return err
	}
	out := &fault.Error{Kind: fault.Invalid, Message: st.Message()}
	if st.Code() == codes.AlreadyExists {
		out.Kind = fault.Conflict
	}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				out.Violations = append(out.Violations, fault.Violation{Field: prefix + "." + v.GetField(), Description: v.GetDescription()})
			}
		case *errdetails.ErrorInfo:
			out.Reason, out.Meta = d.GetReason(), d.GetMetadata()
		}
	}
	return out
}
