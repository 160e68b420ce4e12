package customer

import (
	"context"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, idempotency.Header, key)
}

func newCustomer(name, number string) *customerv1.CreateCustomerRequest {
	return &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{Name: name, Phones: []*customerv1.Phone{{Number: number}}}}
}

func (s *stack) customerCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table("customers").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func TestARetriedCreateWithTheSameKeyAnswersTheFirstCustomer(t *testing.T) {
	s := newStack(t)
	ctx := withKey(s.operator, "create-ann-1")
	first, err := s.customers.CreateCustomer(ctx, newCustomer("Ann", "+79001110001"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.customers.CreateCustomer(ctx, newCustomer("Ann", "+79001110001"))
	if err != nil {
		t.Fatalf("the retry was refused: %v", err)
	}
	if !proto.Equal(first, again) {
		t.Fatalf("the retry answered %v, want the first answer %v", again, first)
	}
	if n := s.customerCount(t); n != 1 {
		t.Fatalf("%d customers, want 1", n)
	}
}

func TestTheSameKeyWithAnotherRequestIsRefused(t *testing.T) {
	s := newStack(t)
	ctx := withKey(s.operator, "create-1")
	if _, err := s.customers.CreateCustomer(ctx, newCustomer("Ann", "+79001110002")); err != nil {
		t.Fatal(err)
	}
	_, err := s.customers.CreateCustomer(ctx, newCustomer("Bob", "+79001110003"))
	if status.Code(err) != codes.AlreadyExists || reason(err) != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("got %v, want AlreadyExists IDEMPOTENCY_KEY_REUSED", err)
	}
	if n := s.customerCount(t); n != 1 {
		t.Fatalf("%d customers, want 1", n)
	}
}

func TestOneUsersKeyDoesNotAnswerAnothersRequest(t *testing.T) {
	s := newStack(t)
	if _, err := s.customers.CreateCustomer(withKey(s.operator, "k"), newCustomer("Ann", "+79001110004")); err != nil {
		t.Fatal(err)
	}
	resp, err := s.customers.CreateCustomer(withKey(s.admin, "k"), newCustomer("Ann", "+79001110005"))
	if err != nil || resp.GetCustomer().GetPhones()[0].GetNumber() != "+79001110005" {
		t.Fatalf("got %v, %v: want the admin's own customer", resp, err)
	}
}

func TestARefusedCreateIsAnsweredTheSameOnRetry(t *testing.T) {
	s := newStack(t)
	s.create(t, "Holder", "+79001110006")
	ctx := withKey(s.operator, "taken-1")
	_, first := s.customers.CreateCustomer(ctx, newCustomer("Ann", "+79001110006"))
	_, again := s.customers.CreateCustomer(ctx, newCustomer("Ann", "+79001110006"))
	if status.Code(first) != codes.AlreadyExists || !sameStatus(status.Convert(first), status.Convert(again)) {
		t.Fatalf("first %v, retry %v: want the same refusal", first, again)
	}
}

// sameStatus compares two statuses by their code, message and unpacked
// details: the packed bytes of a detail with a map differ between two
// encodings of one value.
func sameStatus(a, b *status.Status) bool {
	da, db := a.Details(), b.Details()
	if a.Code() != b.Code() || a.Message() != b.Message() || len(da) != len(db) {
		return false
	}
	for i := range da {
		ma, oka := da[i].(proto.Message)
		mb, okb := db[i].(proto.Message)
		if !oka || !okb || !proto.Equal(ma, mb) {
			return false
		}
	}
	return true
}

func TestConcurrentDuplicatesMakeOneCustomer(t *testing.T) {
	s := newStack(t)
	ctx := withKey(s.operator, "burst-1")
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[int64]int{}
		waiting int
	)
	for range n {
		wg.Go(func() {
			resp, err := s.customers.CreateCustomer(ctx, newCustomer("Ann", "+79001110007"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ids[resp.GetCustomer().GetId()]++
			case status.Code(err) == codes.Aborted && reason(err) == "IDEMPOTENCY_KEY_IN_USE":
				waiting++
			default:
				t.Errorf("unexpected answer: %v", err)
			}
		})
	}
	wg.Wait()
	if len(ids) != 1 || waiting+sumOf(ids) != n {
		t.Fatalf("answers: customers %v, still processing %d; want one customer for all", ids, waiting)
	}
	if c := s.customerCount(t); c != 1 {
		t.Fatalf("%d customers, want 1", c)
	}
	t.Logf("postgres=%v: %d answered the customer, %d told to retry", servicetest.OnPostgres(), sumOf(ids), waiting)
}

func sumOf(m map[int64]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
