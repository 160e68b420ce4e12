package wizard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
)

// Activities are the wizard's steps, each a call to the service that owns
// its data, made as the user who pressed the button.
type Activities struct {
	Customers customerv1.CustomerServiceClient
	Contracts contractv1.ContractServiceClient
	// Users signs the user's principal onto the steps' calls.
	Users *auth.Forwarder
	Log   *slog.Logger
}

// as makes ctx call as the actor, under an idempotency key derived from
// the saga's workflow id and the step ("" for none): a retry of a step
// whose answer was lost (a worker that crashed, a timeout) is answered by
// the service's idempotency ledger with the first attempt's result, so it
// never registers a second customer or opens a second contract.
func (a *Activities) as(ctx context.Context, actor auth.Principal, key, step string) context.Context {
	ctx = a.Users.AsUser(ctx, actor)
	if key == "" {
		return ctx
	}
	sum := sha256.Sum256([]byte(key + "/" + step))
	return metadata.AppendToOutgoingContext(ctx, idempotency.Header, "saga-"+hex.EncodeToString(sum[:]))
}

// RegisterCustomer registers the new customer.
func (a *Activities) RegisterCustomer(ctx context.Context, actor auth.Principal, key string, c *customerv1.Customer) (*customerv1.Customer, error) {
	resp, err := a.Customers.CreateCustomer(a.as(ctx, actor, key, StepRegisterCustomer), &customerv1.CreateCustomerRequest{Customer: c})
	if err != nil {
		return nil, outcome(StepRegisterCustomer, err)
	}
	return resp.GetCustomer(), nil
}

// FindCustomer reads the registered customer the connection is for.
func (a *Activities) FindCustomer(ctx context.Context, actor auth.Principal, id int64) (*customerv1.Customer, error) {
	resp, err := a.Customers.GetCustomer(a.as(ctx, actor, "", ""), &customerv1.GetCustomerRequest{Id: id})
	if status.Code(err) == codes.NotFound {
		err = fault.Field("customerId", "customer %d does not exist", id)
	}
	if err != nil {
		return nil, outcome(StepFindCustomer, err)
	}
	return resp.GetCustomer(), nil
}

// RankTariffs chooses the best-ranked active tariff for the requirements.
func (a *Activities) RankTariffs(ctx context.Context, actor auth.Principal, kind customerv1.CustomerKind, r *contractv1.TariffRequirements) (int64, error) {
	ranked, err := a.Contracts.SuggestTariffs(a.as(ctx, actor, "", ""), &contractv1.SuggestTariffsRequest{
		CustomerKind: kind, Technology: r.GetTechnology(), MinSpeedMbps: r.GetMinSpeedMbps(),
		MaxMonthlyFee: r.MaxMonthlyFee, Currency: r.GetCurrency(),
	})
	if err != nil {
		return 0, outcome(StepRankTariffs, err)
	}
	if len(ranked.GetTariffs()) == 0 {
		// the request's own field, not one of the ranking's
		return 0, outcome(StepOpenContract, fault.Field("requirements", "no active tariff fits these requirements; relax them or choose a tariff"))
	}
	return ranked.GetTariffs()[0].GetId(), nil
}

// OpenContract opens the contract, which starts its connection task.
func (a *Activities) OpenContract(ctx context.Context, actor auth.Principal, key string, req *contractv1.CreateContractRequest) (*contractv1.Contract, error) {
	resp, err := a.Contracts.CreateContract(a.as(ctx, actor, key, StepOpenContract), req)
	if err != nil {
		return nil, outcome(StepOpenContract, err)
	}
	return resp.GetContract(), nil
}

// RemoveCustomer undoes RegisterCustomer, unless a contract holds the
// customer by now (one opened despite the failure, or by someone else in
// the meantime): that customer stays, and the removal is done.
func (a *Activities) RemoveCustomer(ctx context.Context, actor auth.Principal, id int64) error {
	held, err := a.Contracts.ListContracts(ctx, &contractv1.ListContractsRequest{CustomerId: id, PageSize: 1})
	if err != nil {
		return err
	}
	if len(held.GetContracts()) > 0 {
		a.log().Warn("the connection wizard failed after registering a customer whom a contract holds; the customer stays", "customer", id, "user", actor.UserID)
		return nil
	}
	_, err = a.Customers.DeleteCustomer(ctx, &customerv1.DeleteCustomerRequest{Id: id})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	return err
}

func (a *Activities) log() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

// outcome turns a service's answer into the step's failure: a refusal a
// retry would get again fails the step for good, with the service's status
// kept for the caller; anything else (a service down, a timeout) is
// retried.
func outcome(step string, err error) error {
	if st, _ := fault.Status(err); st != nil {
		err = st
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition,
		codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange:
		wire, merr := proto.Marshal(st.Proto())
		if merr != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError(st.Message(), ErrRefused, nil, Refusal{Step: step, Status: wire})
	}
	return err
}
