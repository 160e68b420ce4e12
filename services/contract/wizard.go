package contract

import (
	"context"
	"log/slog"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// Wizard implements contractv1.ConnectionServiceServer: one call from a
// customer to a contract with its connection task, as a short saga — a
// customer it registered is removed again when a later step fails.
type Wizard struct {
	contractv1.UnimplementedConnectionServiceServer
	contracts *Server
	customers customerv1.CustomerServiceClient
	tasks     taskv1.TaskServiceClient
	log       *slog.Logger
}

// NewWizard builds the wizard over the contract service and its neighbours.
func NewWizard(contracts *Server, customers customerv1.CustomerServiceClient, tasks taskv1.TaskServiceClient, log *slog.Logger) *Wizard {
	return &Wizard{contracts: contracts, customers: customers, tasks: tasks, log: log}
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

	var customer *customerv1.Customer
	if newCustomer {
		resp, err := w.customers.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: req.GetCustomer()})
		if err != nil {
			return nil, under("customer", err)
		}
		customer = resp.GetCustomer()
	} else {
		resp, err := w.customers.GetCustomer(ctx, &customerv1.GetCustomerRequest{Id: req.GetCustomerId()})
		if err != nil {
			if status.Code(err) == codes.NotFound {
				return nil, fault.Field("customerId", "customer %d does not exist", req.GetCustomerId())
			}
			return nil, err
		}
		customer = resp.GetCustomer()
	}
	undo := func() {
		if newCustomer {
			w.forget(context.WithoutCancel(ctx), customer.GetId())
		}
	}

	tariffID := req.GetTariffId()
	if tariffID == 0 {
		r := req.GetRequirements()
		ranked, err := w.contracts.SuggestTariffs(ctx, &contractv1.SuggestTariffsRequest{
			CustomerKind: customer.GetKind(), Technology: r.GetTechnology(), MinSpeedMbps: r.GetMinSpeedMbps(),
			MaxMonthlyFee: r.MaxMonthlyFee, Currency: r.GetCurrency(),
		})
		if err != nil {
			undo()
			return nil, under("requirements", err)
		}
		if len(ranked.GetTariffs()) == 0 {
			undo()
			return nil, fault.Field("requirements", "no active tariff fits these requirements; relax them or choose a tariff")
		}
		tariffID = ranked.GetTariffs()[0].GetId()
	}

	made, err := w.contracts.CreateContract(ctx, &contractv1.CreateContractRequest{CustomerId: customer.GetId(), TariffId: tariffID, Address: req.GetAddress()})
	if err != nil {
		undo()
		return nil, err
	}
	contract := made.GetContract()
	out := &contractv1.CreateConnectionResponse{Customer: customer, Contract: contract}
	if id := contract.GetConnectionTaskId(); id != 0 {
		t, err := w.tasks.GetTask(ctx, &taskv1.GetTaskRequest{Id: id})
		if err != nil {
			// the contract and its connection stand; only the answer is short
			return out, nil
		}
		out.Task = t.GetTask()
	}
	return out, nil
}

// forget removes a customer the wizard registered when a later step
// failed — unless a contract holds it by now (one whose connection started
// despite the error stays, and so must its customer). A removal that fails
// is logged, since the customer is then left for a person to remove.
func (w *Wizard) forget(ctx context.Context, customerID int64) {
	held, err := w.contracts.store.contracts(ctx, customerID, 0, 1)
	if err != nil || len(held) > 0 {
		w.log.Warn("the connection wizard failed after registering a customer, who stays", "customer", customerID, "contracts", len(held), "err", err)
		return
	}
	if _, err := w.customers.DeleteCustomer(auth.AsService(ctx), &customerv1.DeleteCustomerRequest{Id: customerID}); err != nil {
		w.log.Error("the connection wizard could not remove the customer it registered", "customer", customerID, "err", err)
	}
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
