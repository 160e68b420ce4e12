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
// phone search (Suffix: among the numbers ending with the digits, once the
// numbers starting with them are done; Part: among those holding them
// elsewhere, last), below a customer id otherwise.
type searchCursor struct {
	Number string `json:"n,omitempty"`
	Suffix bool   `json:"s,omitempty"`
	Part   bool   `json:"p,omitempty"`
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
		found, next, err := s.byPhone(ctx, query, prefix, cur, size)
		if err != nil {
			return nil, err
		}
		if next != nil {
			resp.NextPageToken = s.pages.Encode(query, *next)
		}
		rows = found
	default:
		found, err := s.store.byName(ctx, query, cur.Before, size+1)
		if err != nil {
			return nil, err
		}
		rows, resp.NextPageToken = pagetoken.Next(s.pages, query, found, size, func(r *customerRow) any { return searchCursor{Before: r.ID} })
	}
	for i := range rows {
		resp.Customers = append(resp.Customers, toProto(&rows[i]))
	}
	return resp, nil
}

// byPhone answers a phone-like query: first the customers whose numbers
// start with it (prefix), then, when the query holds at least
// minPartDigits digits, those whose numbers end with them (the last four
// digits, read from the numbers' end), then those whose numbers hold them
// elsewhere ("345-67"), each part in its own order. next is the cursor of
// the page after, nil at the end.
func (s *Server) byPhone(ctx context.Context, query, prefix string, cur searchCursor, size int) ([]customerRow, *searchCursor, error) {
	digits, withPart := numberPart(query)
	var found []customerRow
	switch {
	case !cur.Suffix && !cur.Part && !withPart:
		rows, next, err := s.store.byNumberPrefix(ctx, prefix, cur.Number, size)
		if err != nil || next != "" {
			return rows, &searchCursor{Number: next}, err
		}
		return rows, nil, nil
	case !withPart:
		return nil, nil, nil
	case !cur.Suffix && !cur.Part:
		start, end, err := s.store.byNumberStartOrEnd(ctx, prefix, digits, cur.Number, size)
		if err != nil {
			return nil, nil, err
		}
		rows, next := prefixPage(start, prefix, size)
		if next != "" {
			return rows, &searchCursor{Number: next}, nil
		}
		found = rows
		if len(found) >= size {
			return found, &searchCursor{Suffix: true}, nil
		}
		rows, next = suffixPage(end, digits, size-len(found))
		found = append(found, rows...)
		if next != "" {
			return found, &searchCursor{Number: next, Suffix: true}, nil
		}
		cur = searchCursor{Part: true}
		if len(found) >= size {
			return found, &cur, nil
		}
	case cur.Suffix:
		rows, next, err := s.store.byNumberSuffix(ctx, digits, prefix, cur.Number, size)
		if err != nil {
			return nil, nil, err
		}
		found = append(found, rows...)
		if next != "" {
			return found, &searchCursor{Number: next, Suffix: true}, nil
		}
		cur = searchCursor{Part: true}
		if len(found) >= size {
			return found, &cur, nil
		}
	}
	rows, next, err := s.store.byNumberPart(ctx, digits, prefix, cur.Number, size-len(found))
	if err != nil {
		return nil, nil, err
	}
	found = append(found, rows...)
	if next == "" {
		return found, nil, nil
	}
	return found, &searchCursor{Number: next, Part: true}, nil
}
