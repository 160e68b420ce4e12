package customer

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// contractFinder asks the contract service who holds a contract number.
type contractFinder struct {
	client contractv1.ContractServiceClient
}

// NewContractFinder finds contract holders through the contract service.
func NewContractFinder(client contractv1.ContractServiceClient) ContractFinder {
	return &contractFinder{client: client}
}

func (f *contractFinder) CustomersByContractNumber(ctx context.Context, number string) ([]int64, error) {
	// The lookup is an internal call, made as the customer service: the
	// user's right to search customers was checked on the way in.
	resp, err := f.client.FindCustomersByContractNumber(auth.WithPrincipal(ctx, nil, false), &contractv1.FindCustomersByContractNumberRequest{Number: number})
	switch status.Code(err) {
	case codes.OK:
		return resp.GetCustomerIds(), nil
	case codes.InvalidArgument:
		return nil, nil
	case codes.Unavailable, codes.DeadlineExceeded:
		return nil, fault.New(fault.Unavailable, "searching by contract number is not possible right now (the contract service does not answer); try again in a moment")
	}
	return nil, err
}
