package customer

import (
	"context"
	"fmt"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/contract"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// stack is the customer service and the contract service it asks about
// contract numbers, each on its own store, reached over real connections.
type stack struct {
	common    config.Common
	db        *gorm.DB
	customers customerv1.CustomerServiceClient
	contracts contractv1.ContractServiceClient
	operator  context.Context
	admin     context.Context
	viewer    context.Context
}

func newStack(t *testing.T) *stack {
	t.Helper()
	common := servicetest.Common(t)
	cdb := servicetest.OpenDB(t, common, Name, migrations)
	kdb, err := contract.OpenDB(context.Background(), common, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(kdb) })
	finder := &contractFinder{}
	customerAddr := servicetest.Serve(t, func(s *grpcserver.Server) {
		customerv1.RegisterCustomerServiceServer(s, newServer(t, cdb, finder))
	}, ledger.New(cdb).ServerOption())
	customers := customerv1.NewCustomerServiceClient(servicetest.Dial(t, customerAddr))
	contractAddr := servicetest.Serve(t, func(s *grpcserver.Server) {
		// The contract service reaches the customer service as in
		// production: forwarding its caller.
		asContract := customerv1.NewCustomerServiceClient(servicetest.DialAs(t, customerAddr, contract.Name))
		contractv1.RegisterContractServiceServer(s, contractServer(t, kdb, asContract))
	})
	// The customer service calls the contract service with its forwarder,
	// as in production.
	finder.client = contractv1.NewContractServiceClient(servicetest.DialAs(t, contractAddr, Name))
	ctx := context.Background()
	return &stack{
		common:    common,
		db:        cdb,
		customers: customers,
		contracts: contractv1.NewContractServiceClient(servicetest.Dial(t, contractAddr)),
		operator:  servicetest.User(ctx, 1, servicetest.Operator),
		admin:     servicetest.User(ctx, 2, servicetest.Admin),
		viewer:    servicetest.User(ctx, 3, servicetest.Viewer),
	}
}

// create registers a customer or fails the test.
func (s *stack) create(t *testing.T, name string, numbers ...string) *customerv1.Customer {
	t.Helper()
	c := &customerv1.Customer{Name: name}
	for _, n := range numbers {
		c.Phones = append(c.Phones, &customerv1.Phone{Number: n})
	}
	resp, err := s.customers.CreateCustomer(s.operator, &customerv1.CreateCustomerRequest{Customer: c})
	if err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	return resp.GetCustomer()
}

func (s *stack) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// failure is what a refused call answered.
type failure struct {
	code   codes.Code
	msg    string
	fields map[string]string
	reason string
	meta   map[string]string
}

func failed(t *testing.T, err error) failure {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded; want a refusal")
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a status error: %v", err)
	}
	f := failure{code: st.Code(), msg: st.Message(), fields: map[string]string{}}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				f.fields[v.GetField()] = v.GetDescription()
			}
		case *errdetails.ErrorInfo:
			f.reason, f.meta = d.GetReason(), d.GetMetadata()
		}
	}
	return f
}

func wantCode(t *testing.T, err error, code codes.Code) failure {
	t.Helper()
	f := failed(t, err)
	if f.code != code {
		t.Fatalf("code %s (%q), want %s", f.code, f.msg, code)
	}
	return f
}

// contractServer is the contract service over kdb, its connections
// started by noConnection.
func contractServer(t testing.TB, kdb *gorm.DB, customers customerv1.CustomerServiceClient) *contract.Server {
	t.Helper()
	starter := &noConnection{}
	srv, err := contract.NewServer(kdb, contract.Config{}, contract.Deps{Key: servicetest.Key, Customers: customers, Starter: starter})
	if err != nil {
		t.Fatal(err)
	}
	starter.contracts = srv
	return srv
}

// newServer is the customer service over db, asking contracts about
// contract numbers.
func newServer(t testing.TB, db *gorm.DB, contracts ContractFinder) *Server {
	t.Helper()
	srv, err := NewServer(db, Config{}, Deps{Key: servicetest.Key, Contracts: contracts})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// noConnection starts no connection workflow, these tests being about
// customers, not connections: it only writes the contract, as the
// workflow's first step does.
type noConnection struct{ contracts *contract.Server }

func (n *noConnection) StartConnection(ctx context.Context, c *contractv1.Contract) (int64, error) {
	_, err := n.contracts.RecordContract(ctx, &contractv1.RecordContractRequest{
		Id: c.GetId(), CustomerId: c.GetCustomerId(), TariffId: c.GetTariffId(), Address: c.GetAddress(), Time: timestamppb.Now(),
	})
	return 0, err
}

// race makes n calls at once and returns their errors, in call order.
func race(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = call(i) })
	}
	wg.Wait()
	return errs
}

// expectFound searches for query as a viewer and checks the customers of
// the first page, in order.
func (s *stack) expectFound(t *testing.T, query string, want []int64) {
	t.Helper()
	resp, err := s.customers.SearchCustomers(s.viewer, &customerv1.SearchCustomersRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, c := range resp.GetCustomers() {
		got = append(got, c.GetId())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%q found %v, want %v", query, got, want)
	}
}
