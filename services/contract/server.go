package contract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

const (
	maxAddress  = 500
	defaultPage = 20
	maxPage     = 100
	maxSuggest  = 100
)

// ConnectionStarter starts the connection of a freshly written PENDING
// contract and returns the id of its connection task (0 when it is not
// known yet). The task workflows provide the real one: an Update-with-Start
// of the workflow "connection-<contractId>", so the caller gets the task
// without polling. It reports a workflow service it cannot reach as a gRPC
// Unavailable status or a fault.Unavailable error.
type ConnectionStarter interface {
	StartConnection(ctx context.Context, c *contractv1.Contract) (taskID int64, err error)
}

// Server implements contractv1.ContractServiceServer.
type Server struct {
	contractv1.UnimplementedContractServiceServer
	store     *store
	pages     *pagetoken.Codec
	customers customerv1.CustomerServiceClient
	starter   ConnectionStarter
}

// --- tariffs ---------------------------------------------------------------

type tariffCursor struct {
	After int64 `json:"a"`
}

func (s *Server) ListTariffs(ctx context.Context, req *contractv1.ListTariffsRequest) (*contractv1.ListTariffsResponse, error) {
	size := pagetoken.Size(req.GetPageSize(), defaultPage, maxPage)
	listing := fmt.Sprintf("tariffs/%t/%d", req.GetIncludeInactive(), req.GetCustomerKind())
	var cur tariffCursor
	if _, err := s.pages.Decode(req.GetPageToken(), listing, &cur); err != nil {
		return nil, err
	}
	rows, err := s.store.tariffs(ctx, tariffFilter{IncludeInactive: req.GetIncludeInactive(), Kind: int32(req.GetCustomerKind()), After: cur.After}, size+1)
	if err != nil {
		return nil, err
	}
	resp := &contractv1.ListTariffsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		resp.NextPageToken = s.pages.Encode(listing, tariffCursor{After: rows[len(rows)-1].ID})
	}
	for i := range rows {
		resp.Tariffs = append(resp.Tariffs, tariffProto(&rows[i]))
	}
	return resp, nil
}

func (s *Server) GetTariff(ctx context.Context, req *contractv1.GetTariffRequest) (*contractv1.GetTariffResponse, error) {
	t, err := s.store.tariff(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &contractv1.GetTariffResponse{Tariff: tariffProto(t)}, nil
}

func (s *Server) CreateTariff(ctx context.Context, req *contractv1.CreateTariffRequest) (*contractv1.CreateTariffResponse, error) {
	t := req.GetTariff()
	if t == nil {
		return nil, fault.Field("tariff", "the tariff is missing")
	}
	row := &tariffRow{
		Name:         strings.TrimSpace(t.GetName()),
		CustomerKind: int32(kindOrPerson(t.GetCustomerKind())),
		Technology:   normalizeTechnology(t.GetTechnology()),
		SpeedMbps:    t.GetSpeedMbps(),
		FeeMinor:     t.GetMonthlyFee().GetAmountMinor(),
		Currency:     normalizeCurrency(t.GetMonthlyFee().GetCurrency()),
		Active:       t.Active == nil || t.GetActive(),
	}
	errs := checkTariff(row)
	if t.GetMonthlyFee() == nil {
		errs = append(errs, fault.Violation{Field: "monthlyFee", Description: "give the monthly fee"})
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	if err := s.store.createTariff(ctx, row); err != nil {
		return nil, err
	}
	return &contractv1.CreateTariffResponse{Tariff: tariffProto(row)}, nil
}

func (s *Server) UpdateTariff(ctx context.Context, req *contractv1.UpdateTariffRequest) (*contractv1.UpdateTariffResponse, error) {
	t := req.GetTariff()
	if t == nil {
		return nil, fault.Field("tariff", "send the tariff's fields to change")
	}
	id, err := fault.UpdatedID("tariff", req.GetId(), t.GetId())
	if err != nil {
		return nil, err
	}
	t.Id = id
	current, err := s.store.tariff(ctx, t.GetId())
	if err != nil {
		return nil, err
	}
	version, err := fault.Version(t.GetEtag(), current.Version)
	if err != nil {
		return nil, err
	}
	paths, err := fault.Mask(req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, err
	}
	next := *current
	cols := map[string]any{}
	for _, p := range paths {
		switch p {
		case "name":
			next.Name = strings.TrimSpace(t.GetName())
			cols["name"] = next.Name
		case "customer_kind":
			next.CustomerKind = int32(kindOrPerson(t.GetCustomerKind()))
			cols["customer_kind"] = next.CustomerKind
		case "technology":
			next.Technology = normalizeTechnology(t.GetTechnology())
			cols["technology"] = next.Technology
		case "speed_mbps":
			next.SpeedMbps = t.GetSpeedMbps()
			cols["speed_mbps"] = next.SpeedMbps
		case "monthly_fee":
			next.FeeMinor, next.Currency = t.GetMonthlyFee().GetAmountMinor(), normalizeCurrency(t.GetMonthlyFee().GetCurrency())
			cols["fee_minor"], cols["currency"] = next.FeeMinor, next.Currency
		case "monthly_fee.amount_minor":
			next.FeeMinor = t.GetMonthlyFee().GetAmountMinor()
			cols["fee_minor"] = next.FeeMinor
		case "monthly_fee.currency":
			next.Currency = normalizeCurrency(t.GetMonthlyFee().GetCurrency())
			cols["currency"] = next.Currency
		case "active":
			next.Active = t.GetActive()
			cols["active"] = next.Active
		case "id", "etag", "create_time", "update_time":
			// Sent back with the rest of a tariff; not changeable.
		default:
			return nil, fault.Field("updateMask", "%q is not a field of a tariff that can be changed", p)
		}
	}
	if errs := checkTariff(&next); len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	if len(cols) > 0 {
		if err := s.store.updateTariff(ctx, t.GetId(), version, cols); err != nil {
			return nil, err
		}
	}
	row, err := s.store.tariff(ctx, t.GetId())
	if err != nil {
		return nil, err
	}
	return &contractv1.UpdateTariffResponse{Tariff: tariffProto(row)}, nil
}

func (s *Server) SuggestTariffs(ctx context.Context, req *contractv1.SuggestTariffsRequest) (*contractv1.SuggestTariffsResponse, error) {
	n := need{
		Kind:       int32(kindOrPerson(req.GetCustomerKind())),
		Technology: normalizeTechnology(req.GetTechnology()),
		MinSpeed:   req.GetMinSpeedMbps(),
		MaxFee:     req.MaxMonthlyFee,
		Currency:   normalizeCurrency(req.GetCurrency()),
	}
	var errs []fault.Violation
	if k := customerv1.CustomerKind(n.Kind); k != customerv1.CustomerKind_CUSTOMER_KIND_PERSON && k != customerv1.CustomerKind_CUSTOMER_KIND_COMPANY {
		errs = append(errs, fault.Violation{Field: "customerKind", Description: "the customer kind is PERSON or COMPANY"})
	}
	if n.Technology != "" && (len(n.Technology) > maxTechnology || !isTechnology(n.Technology)) {
		errs = append(errs, fault.Violation{Field: "technology", Description: fmt.Sprintf("%q is not a technology name", req.GetTechnology())})
	}
	if n.MinSpeed < 0 {
		errs = append(errs, fault.Violation{Field: "minSpeedMbps", Description: "the minimum speed cannot be negative"})
	}
	if n.MaxFee != nil && *n.MaxFee < 0 {
		errs = append(errs, fault.Violation{Field: "maxMonthlyFee", Description: "the maximum fee cannot be negative"})
	}
	if !isCurrency(n.Currency) {
		errs = append(errs, fault.Violation{Field: "currency", Description: fmt.Sprintf("%q is not a currency code", req.GetCurrency())})
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	rows, err := s.store.suitable(ctx, n.Kind, n.Currency)
	if err != nil {
		return nil, err
	}
	ranked := rank(n, rows)
	if len(ranked) > maxSuggest {
		ranked = ranked[:maxSuggest]
	}
	resp := &contractv1.SuggestTariffsResponse{}
	for i := range ranked {
		resp.Tariffs = append(resp.Tariffs, tariffProto(&ranked[i]))
	}
	return resp, nil
}

// --- contracts -------------------------------------------------------------

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
	// The contract is written by its connection workflow as its first
	// step, under an id allocated here (the same one for a retry under the
	// same idempotency key, which so joins the first attempt's workflow):
	// a contract exists only with the workflow that connects it.
	id, err := s.store.allocate(ctx, idempotency.UpdateID(ctx, "create-contract"))
	if err != nil {
		return nil, err
	}
	taskID, err := s.starter.StartConnection(ctx, &contractv1.Contract{Id: id, CustomerId: customer.GetId(), TariffId: tariff.ID, Address: address})
	if err != nil {
		// The workflow did not start (nothing is written), or refused the
		// contract (nothing is written), or is still making the task (it
		// owns the contract and connects it, or removes it if it cannot) —
		// unless the task is on the contract by now: then the contract is
		// the answer.
		if c, cerr := s.store.contract(context.WithoutCancel(ctx), id); cerr == nil && c.ConnectionTaskID != 0 {
			return &contractv1.CreateContractResponse{Contract: contractProto(c)}, nil
		}
		return nil, startFailed(err)
	}
	row, err := s.store.contract(ctx, id)
	if err != nil {
		return nil, err
	}
	if taskID != 0 && row.ConnectionTaskID == 0 {
		if row, err = s.store.setConnectionTask(ctx, id, taskID); err != nil {
			return nil, err
		}
	}
	return &contractv1.CreateContractResponse{Contract: contractProto(row)}, nil
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
	if len(rows) > size {
		rows = rows[:size]
		resp.NextPageToken = s.pages.Encode(listing, contractCursor{Before: rows[len(rows)-1].ID})
	}
	for i := range rows {
		resp.Contracts = append(resp.Contracts, contractProto(&rows[i]))
	}
	return resp, nil
}

// --- status changes (internal) ---------------------------------------------

const (
	pending    = contractv1.ContractStatus_CONTRACT_STATUS_PENDING
	active     = contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE
	cancelled  = contractv1.ContractStatus_CONTRACT_STATUS_CANCELLED
	suspended  = contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED
	terminated = contractv1.ContractStatus_CONTRACT_STATUS_TERMINATED
)

func (s *Server) ActivateContract(ctx context.Context, req *contractv1.ActivateContractRequest) (*contractv1.ActivateContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), active, pending)
	if err != nil {
		return nil, err
	}
	return &contractv1.ActivateContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) CancelContract(ctx context.Context, req *contractv1.CancelContractRequest) (*contractv1.CancelContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), cancelled, pending)
	if err != nil {
		return nil, err
	}
	return &contractv1.CancelContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) SuspendContract(ctx context.Context, req *contractv1.SuspendContractRequest) (*contractv1.SuspendContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), suspended, active)
	if err != nil {
		return nil, err
	}
	return &contractv1.SuspendContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) ResumeContract(ctx context.Context, req *contractv1.ResumeContractRequest) (*contractv1.ResumeContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), active, suspended)
	if err != nil {
		return nil, err
	}
	return &contractv1.ResumeContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) TerminateContract(ctx context.Context, req *contractv1.TerminateContractRequest) (*contractv1.TerminateContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), terminated, active, suspended)
	if err != nil {
		return nil, err
	}
	return &contractv1.TerminateContractResponse{Contract: contractProto(c)}, nil
}

// ChangeTariff moves an active or suspended contract to another tariff
// that is still offered. A retry after success finds the contract on the
// tariff already and answers it as done.
func (s *Server) ChangeTariff(ctx context.Context, req *contractv1.ChangeTariffRequest) (*contractv1.ChangeTariffResponse, error) {
	tariff, err := s.store.tariff(ctx, req.GetTariffId())
	if fault.Is(err, fault.NotFound) {
		return nil, fault.Field("tariffId", "tariff %d does not exist", req.GetTariffId())
	}
	if err != nil {
		return nil, err
	}
	c, err := s.store.changeTariff(ctx, req.GetId(), tariff)
	if err != nil {
		return nil, err
	}
	return &contractv1.ChangeTariffResponse{Contract: contractProto(c)}, nil
}

func (s *Server) SetConnectionTask(ctx context.Context, req *contractv1.SetConnectionTaskRequest) (*contractv1.SetConnectionTaskResponse, error) {
	if req.GetTaskId() <= 0 {
		return nil, fault.Field("taskId", "give the connection task's id")
	}
	c, err := s.store.setConnectionTask(ctx, req.GetContractId(), req.GetTaskId())
	if err != nil {
		return nil, err
	}
	return &contractv1.SetConnectionTaskResponse{Contract: contractProto(c)}, nil
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

func (s *Server) DeleteContract(ctx context.Context, req *contractv1.DeleteContractRequest) (*contractv1.DeleteContractResponse, error) {
	if err := s.store.deletePending(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &contractv1.DeleteContractResponse{}, nil
}

// --- shared ----------------------------------------------------------------

func kindWord(k customerv1.CustomerKind) string {
	if k == customerv1.CustomerKind_CUSTOMER_KIND_COMPANY {
		return "company"
	}
	return "person"
}

func kindPlural(k customerv1.CustomerKind) string {
	if k == customerv1.CustomerKind_CUSTOMER_KIND_COMPANY {
		return "companies"
	}
	return "persons"
}

func statusWord(s contractv1.ContractStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "CONTRACT_STATUS_"))
}

func contractProto(c *contractRow) *contractv1.Contract {
	p := &contractv1.Contract{
		Id:               c.ID,
		Number:           c.number(),
		CustomerId:       c.CustomerID,
		TariffId:         c.TariffID,
		Address:          c.Address,
		Status:           contractv1.ContractStatus(c.Status),
		ConnectionTaskId: c.ConnectionTaskID,
		CreateTime:       micros.Proto(c.CreatedAt),
		UpdateTime:       micros.Proto(c.UpdatedAt),
	}
	if c.ActivatedAt != 0 {
		p.ActivateTime = micros.Proto(c.ActivatedAt)
	}
	return p
}
