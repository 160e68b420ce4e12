package contract

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

func (s *Server) CreateContract(ctx context.Context, req *contractv1.CreateContractRequest) (*contractv1.CreateContractResponse, error) {
	address := strings.TrimSpace(req.GetAddress())
	var errs []fault.Violation
	if req.GetCustomerId() <= 0 {
		errs = append(errs, fault.Violation{Field: "customerId", Description: "say which customer the contract is for"})
	}
	if req.GetTariffId() <= 0 {
		errs = append(errs, fault.Violation{Field: "tariffId", Description: "choose a tariff"})
	}
	switch n := utf8.RuneCountInString(address); {
	case n == 0:
		errs = append(errs, fault.Violation{Field: "address", Description: "give the service address"})
	case n > maxAddress:
		errs = append(errs, fault.Violation{Field: "address", Description: fmt.Sprintf("the address is %d characters long; at most %d", n, maxAddress)})
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	tariff, err := s.offeredTariff(ctx, req.GetTariffId())
	if err != nil {
		return nil, err
	}
	customer, err := s.customer(ctx, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	if kind := kindOrPerson(customer.GetKind()); int32(kind) != tariff.CustomerKind {
		return nil, kindMismatch(tariff, fmt.Sprintf("customer %d", customer.GetId()), kind)
	}
	row, err := s.connect(ctx, idempotency.UpdateID(ctx, "create-contract"), &contractv1.Contract{CustomerId: customer.GetId(), TariffId: tariff.ID, Address: address})
	if err != nil {
		return nil, err
	}
	s.audit.Record(ctx, "contract.create", "contract:"+strconv.FormatInt(row.ID, 10), "contract_created",
		"number", row.number(), "customer", customer.GetName(), "tariff", tariff.Name, "address", row.Address)
	return &contractv1.CreateContractResponse{Contract: contractProto(row)}, nil
}

// connect opens a contract and starts its connection. The contract is
// written by its connection workflow as its first step, under an id
// allocated here (the same one for a retry under the same reservation,
// which so joins the first attempt's workflow): a contract exists only
// with the workflow that connects it.
func (s *Server) connect(ctx context.Context, reservation string, c *contractv1.Contract) (*contractRow, error) {
	id, err := s.store.allocate(ctx, reservation)
	if err != nil {
		return nil, err
	}
	c.Id = id
	taskID, err := s.starter.StartConnection(ctx, c)
	if err != nil {
		// The workflow did not start (nothing is written), or refused the
		// contract (nothing is written), or is still making the task (it
		// owns the contract and connects it, or removes it if it cannot) —
		// unless the task is on the contract by now: then the contract is
		// the answer.
		if c, cerr := s.store.contract(context.WithoutCancel(ctx), id); cerr == nil && c.ConnectionTaskID != 0 {
			return c, nil
		}
		return nil, startFailed(err)
	}
	row, err := s.store.contract(ctx, id)
	if err != nil {
		return nil, err
	}
	if taskID != 0 && row.ConnectionTaskID == 0 {
		return s.store.setConnectionTask(ctx, id, taskID)
	}
	return row, nil
}

// RecordContract writes a new contract as its connection workflow's first
// step. Its customer and tariff were checked when it was opened; the
// tariff is checked again (it may have been withdrawn since).
func (s *Server) RecordContract(ctx context.Context, req *contractv1.RecordContractRequest) (*contractv1.RecordContractResponse, error) {
	if req.GetTime() == nil {
		return nil, fault.Field("time", "a new contract names when its workflow began")
	}
	if _, err := s.store.tariff(ctx, req.GetTariffId()); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, fault.Field("tariffId", "tariff %d does not exist", req.GetTariffId())
		}
		return nil, err
	}
	row, err := s.store.record(ctx, &contractRow{
		ID: req.GetId(), CustomerID: req.GetCustomerId(), TariffID: req.GetTariffId(), Address: strings.TrimSpace(req.GetAddress()),
	}, req.GetTime().AsTime().UTC().UnixMicro())
	if err != nil {
		return nil, err
	}
	return &contractv1.RecordContractResponse{Contract: contractProto(row)}, nil
}

// offeredTariff reads a tariff a contract is to be opened on, refusing one
// that does not exist or is no longer offered.
func (s *Server) offeredTariff(ctx context.Context, id int64) (*tariffRow, error) {
	tariff, err := s.store.tariff(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.Field("tariffId", "tariff %d does not exist", id)
	}
	if err != nil {
		return nil, err
	}
	if !tariff.Active {
		return nil, fault.Field("tariffId", "tariff %q is no longer offered; choose another", tariff.Name).Because("TARIFF_INACTIVE", nil)
	}
	return tariff, nil
}

// offered checks a chosen tariff before anything is written: it exists,
// is offered and, when the customer's kind is known, is for that kind.
func (s *Server) offered(ctx context.Context, id int64, kind customerv1.CustomerKind) error {
	tariff, err := s.offeredTariff(ctx, id)
	if err != nil {
		return err
	}
	if kind != customerv1.CustomerKind_CUSTOMER_KIND_UNSPECIFIED && int32(kind) != tariff.CustomerKind {
		return kindMismatch(tariff, "the new customer", kind)
	}
	return nil
}

func kindMismatch(tariff *tariffRow, who string, kind customerv1.CustomerKind) error {
	return fault.Field("tariffId", "tariff %q is for %s, and %s is a %s; choose a tariff for %s",
		tariff.Name, kindPlural(customerv1.CustomerKind(tariff.CustomerKind)), who, kindWord(kind), kindPlural(kind)).
		Because("TARIFF_KIND_MISMATCH", nil)
}

// customer asks the customer service for a contract's customer, as the
// caller: the caller's principal goes with the call.
func (s *Server) customer(ctx context.Context, id int64) (*customerv1.Customer, error) {
	resp, err := s.customers.GetCustomer(ctx, &customerv1.GetCustomerRequest{Id: id})
	if err != nil {
		return nil, fault.Peer("customer", err, fault.Field("customerId", "customer %d does not exist", id))
	}
	return resp.GetCustomer(), nil
}

// startFailed says why a contract could not be opened when its connection
// did not start: a starter that cannot reach its workflow service is
// Unavailable (the caller may try again); its own refusals pass through.
func startFailed(err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if fault.Unreachable(err) {
		return fault.New(fault.Unavailable, "the connection could not be started: the task service does not answer; try again in a moment")
	}
	return err
}

func (s *Server) GetContract(ctx context.Context, req *contractv1.GetContractRequest) (*contractv1.GetContractResponse, error) {
	c, err := s.store.contract(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &contractv1.GetContractResponse{Contract: contractProto(c)}, nil
}

type contractCursor struct {
	Before int64 `json:"b"`
}

func (s *Server) ListContracts(ctx context.Context, req *contractv1.ListContractsRequest) (*contractv1.ListContractsResponse, error) {
	size := pagetoken.Size(req.GetPageSize(), defaultPage, maxPage)
	listing := fmt.Sprintf("contracts/%d", req.GetCustomerId())
	var cur contractCursor
	if _, err := s.pages.Decode(req.GetPageToken(), listing, &cur); err != nil {
		return nil, err
	}
	rows, err := s.store.contracts(ctx, req.GetCustomerId(), cur.Before, size+1)
	if err != nil {
		return nil, err
	}
	resp := &contractv1.ListContractsResponse{}
	rows, resp.NextPageToken = pagetoken.Next(s.pages, listing, rows, size, func(r *contractRow) any { return contractCursor{Before: r.ID} })
	for i := range rows {
		resp.Contracts = append(resp.Contracts, contractProto(&rows[i]))
	}
	return resp, nil
}

func (s *Server) FindCustomersByContractNumber(ctx context.Context, req *contractv1.FindCustomersByContractNumberRequest) (*contractv1.FindCustomersByContractNumberResponse, error) {
	number, ok := parseNumber(req.GetNumber())
	if !ok {
		return nil, fault.Field("number", "%q is not a contract number (as C-000123)", req.GetNumber())
	}
	ids, err := s.store.byNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	return &contractv1.FindCustomersByContractNumberResponse{CustomerIds: ids}, nil
}
