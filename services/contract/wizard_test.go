package contract

import (
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
)

func newCustomer(name, phone string) *customerv1.Customer {
	return &customerv1.Customer{Name: name, Phones: []*customerv1.Phone{{Number: phone}}}
}

func (s *stack) customerRows(t *testing.T) (customers, phones int64) {
	t.Helper()
	for table, n := range map[string]*int64{"customers": &customers, "phones": &phones} {
		if err := s.customerDB.Table(table).Count(n).Error; err != nil {
			t.Fatal(err)
		}
	}
	return customers, phones
}

// wantLeftBehind checks that a failed wizard left the customers and phones
// as they were and no contract.
func (s *stack) wantLeftBehind(t *testing.T, customers, phones int64) {
	t.Helper()
	if c, p := s.customerRows(t); c != customers || p != phones {
		t.Fatalf("%d customers and %d phones after the failure; want %d and %d", c, p, customers, phones)
	}
	if n := s.count(t, "contracts"); n != 0 {
		t.Fatalf("%d contracts left behind", n)
	}
}

func TestWizardWritesTheCustomerAndTheContract(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	resp, err := s.connections.CreateConnection(s.operator, &contractv1.CreateConnectionRequest{
		Customer: newCustomer("Олегов", "+79120000001"), TariffId: s.tariff(t, "Home 100").GetId(), Address: "Москва, Тверская, 1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetContract().GetCustomerId() != resp.GetCustomer().GetId() || resp.GetCustomer().GetId() == 0 {
		t.Fatalf("answered %v", resp)
	}
	if c, p := s.customerRows(t); c != 1 || p != 1 || s.count(t, "contracts") != 1 {
		t.Fatalf("%d customers, %d phones, %d contracts; want one each", c, p, s.count(t, "contracts"))
	}
}

func TestWizardWhoseContractStepFailsLeavesNoCustomer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tariff string // "" for one that does not exist
		start  error
		code   codes.Code
	}{
		{"a tariff for companies", "Business 200", nil, codes.InvalidArgument},
		{"a tariff that does not exist", "", nil, codes.InvalidArgument},
		{"the connection refused to start", "Home 100", status.Error(codes.FailedPrecondition, "route 1 has no processes"), codes.FailedPrecondition},
		{"the task service down", "Home 100", status.Error(codes.Unavailable, "connection refused"), codes.Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			if tc.start != nil {
				s.starter.answer(0, tc.start)
			}
			tariff := int64(999)
			if tc.tariff != "" {
				tariff = s.tariff(t, tc.tariff).GetId()
			}
			_, err := s.connections.CreateConnection(s.operator, &contractv1.CreateConnectionRequest{
				Customer: newCustomer("Никто", "+79120000002"), TariffId: tariff, Address: "Москва, Тверская, 2",
			})
			wantCode(t, err, tc.code)
			s.wantLeftBehind(t, 0, 0)
		})
	}
}

func TestWizardKeepsItsCustomerWhenAContractHoldsItDespiteTheFailure(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	// Another contract of the new customer is written while the wizard's
	// own contract fails to start: removing the customer would orphan it.
	// (The saga tries its contract step a few times; the other contract is
	// written once.)
	var once sync.Once
	s.starter.mu.Lock()
	s.starter.next = func(k *contractv1.Contract) (int64, error) {
		once.Do(func() {
			other := &contractRow{CustomerID: k.GetCustomerId(), TariffID: k.GetTariffId(), Address: "Москва, Тверская, 4"}
			if err := (&store{db: s.db, now: time.Now}).createContract(t.Context(), other); err != nil {
				t.Error(err)
			}
		})
		return 0, status.Error(codes.Unavailable, "connection refused")
	}
	s.starter.mu.Unlock()
	resp, err := s.connections.CreateConnection(s.operator, &contractv1.CreateConnectionRequest{
		Customer: newCustomer("Держатель", "+79120000003"), TariffId: s.tariff(t, "Home 100").GetId(), Address: "Москва, Тверская, 3",
	})
	wantCode(t, err, codes.Unavailable)
	if resp != nil {
		t.Fatalf("answered %v", resp)
	}
	if c, _ := s.customerRows(t); c != 1 {
		t.Fatalf("%d customers; the one another contract holds must stay", c)
	}
	if n := s.count(t, "contracts"); n != 1 {
		t.Fatalf("%d contracts, want the other one", n)
	}
}
