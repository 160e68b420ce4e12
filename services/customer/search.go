package customer

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

const (
	defaultPage = 20
	maxPage     = 100
)

// contractNumber matches what people type for a contract: C-000123, c123.
var contractNumber = regexp.MustCompile(`^[CcСс][-\s]?\d{1,12}$`)

// searchCursor is where the next page starts: after a phone number for a
// phone search, below a customer id otherwise.
type searchCursor struct {
	Number string `json:"n,omitempty"`
	Before int64  `json:"b,omitempty"`
}

func (s *Server) SearchCustomers(ctx context.Context, req *customerv1.SearchCustomersRequest) (*customerv1.SearchCustomersResponse, error) {
	query := strings.TrimSpace(req.GetQuery())
	if n := utf8.RuneCountInString(query); n > maxName {
		return nil, fault.Field("query", "the query is %d characters long; at most %d", n, maxName)
	}
	size := pagetoken.Size(req.GetPageSize(), defaultPage, maxPage)
	var cur searchCursor
	if _, err := s.pages.Decode(req.GetPageToken(), query, &cur); err != nil {
		return nil, err
	}
	resp := &customerv1.SearchCustomersResponse{}
	var rows []customerRow
	switch prefix, isPhone := numberPrefix(query); {
	case contractNumber.MatchString(query) && s.contracts != nil:
		ids, err := s.contracts.CustomersByContractNumber(ctx, query)
		if err != nil {
			return nil, err
		}
		if rows, err = s.store.byIDs(ctx, ids); err != nil {
			return nil, err
		}
	case isPhone:
		found, next, err := s.store.byNumberPrefix(ctx, prefix, cur.Number, size)
		if err != nil {
			return nil, err
		}
		if next != "" {
			resp.NextPageToken = s.pages.Encode(query, searchCursor{Number: next})
		}
		rows = found
	default:
		found, err := s.store.byName(ctx, query, cur.Before, size+1)
		if err != nil {
			return nil, err
		}
		if len(found) > size {
			found = found[:size]
			resp.NextPageToken = s.pages.Encode(query, searchCursor{Before: found[len(found)-1].ID})
		}
		rows = found
	}
	for i := range rows {
		resp.Customers = append(resp.Customers, toProto(&rows[i]))
	}
	return resp, nil
}
