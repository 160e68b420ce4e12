package contract

import (
	"context"
	"strings"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
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
	audit     *auditlog.Log
}

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
