package task

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// The task search reads a query the way people type what they know of a
// task: its number, its contract's number, the customer's phone (or a part
// of it), or words of its title, the customer's name or a comment.
var (
	// taskNumberQuery is "T-000123", "t123", "Т 123" (Cyrillic too).
	taskNumberQuery = regexp.MustCompile(`^[TtТт][-\s]?(\d{1,12})$`)
	// contractNumberQuery is "C-000045", "c45", "С-45" (Cyrillic too).
	contractNumberQuery = regexp.MustCompile(`^[CcСс][-\s]?(\d{1,12})$`)
	// phoneQuery is digits with what people write between them.
	phoneQuery = regexp.MustCompile(`^\+?[\d\s()\-.]+$`)
)

// maxSearchCustomers caps how many customers found by a phone lead to
// their tasks: a phone names one customer, a part of one a few.
const maxSearchCustomers = 50

// searchTerms is what a query stands for. A search matches a task by any
// of them; text is searched only when the query is no number.
type searchTerms struct {
	TaskID         int64
	ContractNumber string
	CustomerIDs    []int64
	Text           string
}

// terms reads a query. A phone-like query asks the customer service for
// the customers it finds (phone prefix, or any part of four digits or
// more); a bare number up to twelve digits is also read as a task number.
func (s *Server) terms(ctx context.Context, query string) (searchTerms, error) {
	var t searchTerms
	if m := taskNumberQuery.FindStringSubmatch(query); m != nil {
		t.TaskID, _ = strconv.ParseInt(m[1], 10, 64)
		return t, nil
	}
	if m := contractNumberQuery.FindStringSubmatch(query); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		t.ContractNumber = fmt.Sprintf("C-%06d", n)
		return t, nil
	}
	if phoneQuery.MatchString(query) {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, query)
		if len(digits) <= 12 && !strings.HasPrefix(query, "+") {
			t.TaskID, _ = strconv.ParseInt(digits, 10, 64)
		}
		resp, err := s.customers.SearchCustomers(ctx, &customerv1.SearchCustomersRequest{Query: query, PageSize: maxSearchCustomers})
		if err != nil {
			return t, err
		}
		for _, c := range resp.GetCustomers() {
			t.CustomerIDs = append(t.CustomerIDs, c.GetId())
		}
		return t, nil
	}
	if !textsearch.TrigramUsable(query) {
		return t, fault.Field("query", "type at least %d letters or digits in a row, a task number (T-123), a contract number (C-45) or a phone", textsearch.MinTrigramRun)
	}
	t.Text = query
	return t, nil
}

// search answers a page of the tasks matching the terms within the filter,
// in the filter's order.
func (s *store) search(ctx context.Context, t searchTerms, f taskFilter) ([]taskRow, error) {
	if t.Text != "" {
		// The matching ids are gathered first through the trigram indexes
		// of the folded title-and-name and of the folded comments;
		// MATERIALIZED keeps the planner from walking the primary key
		// newest first and testing every task, which reads the whole table
		// for a rare word.
		pattern := textsearch.Contains(t.Text)
		return s.page(ctx, `WITH m AS MATERIALIZED (SELECT id FROM tasks WHERE search_lower LIKE ? ESCAPE '\'
  UNION SELECT task_id FROM comments WHERE text_lower LIKE ? ESCAPE '\') `,
			"id IN (SELECT id FROM m)", []any{pattern, pattern}, f)
	}
	var (
		or   []string
		args []any
	)
	if t.TaskID > 0 {
		or, args = append(or, "id = ?"), append(args, t.TaskID)
	}
	if t.ContractNumber != "" {
		or, args = append(or, "contract_number = ?"), append(args, t.ContractNumber)
	}
	if len(t.CustomerIDs) > 0 {
		or, args = append(or, "customer_id IN ?"), append(args, t.CustomerIDs)
	}
	if len(or) == 0 {
		return nil, nil
	}
	return s.page(ctx, "", "("+strings.Join(or, " OR ")+")", args, f)
}

// searchText is what the text search looks through on a task's row.
func searchText(title, customerName string) string {
	return textsearch.Fold(title + " " + customerName)
}
