package contract

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/customer"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/queueorder"
	"github.com/telecomcrm/crm/workflows/wizard"
)

// stack is the contract service with the customer service it asks about
// customers, each on its own store, reached over real connections, and a
// connection starter that records what it was asked.
type stack struct {
	db          *gorm.DB
	customerDB  *gorm.DB
	contracts   contractv1.ContractServiceClient
	connections contractv1.ConnectionServiceClient
	imports     contractv1.ImportServiceClient
	runner      *fakeRunner
	customers   customerv1.CustomerServiceClient
	starter     *fakeStarter
	saga        *envSaga
	operator    context.Context
	admin       context.Context
	viewer      context.Context
	workflow    context.Context
}

func newStack(t testing.TB) *stack {
	t.Helper()
	common := servicetest.Common(t)
	cdb, err := customer.OpenDB(context.Background(), common, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(cdb) })
	kdb := servicetest.OpenDB(t, common, Name, migrations)
	// Both services keep an idempotency ledger, as in production: the
	// saga's steps rely on it to answer a retried step with its first result.
	customerAddr := servicetest.Serve(t, func(s *grpcserver.Server) {
		srv, err := customer.NewServer(cdb, customer.Config{}, customer.Deps{Key: servicetest.Key})
		if err != nil {
			t.Fatal(err)
		}
		customerv1.RegisterCustomerServiceServer(s, srv)
	}, ledger.New(cdb).ServerOption())
	starter := &fakeStarter{db: kdb}
	// The contract service reaches the customer service as in production:
	// through its forwarder, which passes the caller on.
	fwd := auth.NewForwarder(auth.NewKeyring(servicetest.Key), Name)
	conn, err := grpcclient.Dialer{Forward: fwd}.Dial("customer", customerAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	customers := customerv1.NewCustomerServiceClient(conn)
	contracts, err := NewServer(kdb, Config{}, Deps{Key: servicetest.Key, Customers: customers, Starter: starter})
	if err != nil {
		t.Fatal(err)
	}
	saga := &envSaga{t: t}
	runner := &fakeRunner{}
	addr := servicetest.Serve(t, func(s *grpcserver.Server) {
		contractv1.RegisterContractServiceServer(s, contracts)
		contractv1.RegisterImportServiceServer(s, NewImports(contracts, runner, importLimit, 2))
		contractv1.RegisterConnectionServiceServer(s, NewWizard(contracts, saga, noTasks{}, servicetest.Logger()))
	}, ledger.New(kdb).ServerOption())
	// The saga's steps reach the services as the worker does.
	saga.steps = &wizard.Activities{
		Customers: &lossyCustomers{CustomerServiceClient: customerv1.NewCustomerServiceClient(servicetest.DialAs(t, customerAddr, "worker"))},
		Contracts: &lossyContracts{ContractServiceClient: contractv1.NewContractServiceClient(servicetest.DialAs(t, addr, "worker"))},
		Users:     auth.NewForwarder(auth.NewKeyring(servicetest.Key), "worker"),
		Log:       servicetest.Logger(),
	}
	ctx := context.Background()
	served := servicetest.Dial(t, addr)
	return &stack{
		saga:        saga,
		db:          kdb,
		customerDB:  cdb,
		contracts:   contractv1.NewContractServiceClient(served),
		connections: contractv1.NewConnectionServiceClient(served),
		imports:     contractv1.NewImportServiceClient(served),
		runner:      runner,
		customers:   customerv1.NewCustomerServiceClient(servicetest.Dial(t, customerAddr)),
		starter:     starter,
		operator:    servicetest.User(ctx, 1, servicetest.Operator),
		admin:       servicetest.User(ctx, 2, servicetest.Admin),
		viewer:      servicetest.User(ctx, 3, servicetest.Viewer),
		workflow:    servicetest.Service(ctx, "workflows"),
	}
}

// noTasks stands in for a task service that does not answer: the wizard's
// answer then lacks the task, and nothing else changes.
type noTasks struct{ taskv1.TaskServiceClient }

func (noTasks) GetTask(context.Context, *taskv1.GetTaskRequest, ...grpc.CallOption) (*taskv1.GetTaskResponse, error) {
	return nil, status.Error(codes.Unavailable, "no task service in these tests")
}

// fakeStarter stands in for the connection workflow's starter: a start
// that succeeds writes the contract as the workflow's first step does.
type fakeStarter struct {
	db *gorm.DB
	mu sync.Mutex
	// next answers the next start; nil starts with task id 100+contract id.
	next func(c *contractv1.Contract) (int64, error)
	// seen records each contract the starts were given, and whether a row
	// of it existed already.
	seen    []*contractv1.Contract
	existed []bool
	// keys records the task priority each start was given.
	keys []int
}

func (f *fakeStarter) StartConnection(ctx context.Context, c *contractv1.Contract) (int64, error) {
	var n int64
	if err := f.db.WithContext(ctx).Model(&contractRow{}).Where("id = ?", c.GetId()).Count(&n).Error; err != nil {
		return 0, err
	}
	f.mu.Lock()
	f.seen, f.existed = append(f.seen, c), append(f.existed, n > 0)
	f.keys = append(f.keys, queueorder.Start(ctx).PriorityKey)
	next := f.next
	f.mu.Unlock()
	if next != nil {
		return next(c)
	}
	if err := f.write(ctx, c); err != nil {
		return 0, err
	}
	return 100 + c.GetId(), nil
}

// write records the contract as its workflow's first step would.
func (f *fakeStarter) write(ctx context.Context, c *contractv1.Contract) error {
	_, err := (&store{db: f.db, now: time.Now}).record(ctx, &contractRow{ID: c.GetId(), CustomerID: c.GetCustomerId(), TariffID: c.GetTariffId(), Address: c.GetAddress()}, time.Now().UnixMicro())
	return err
}

// answer makes every later start answer taskID, err; one that succeeds
// writes its contract first.
func (f *fakeStarter) answer(taskID int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = func(c *contractv1.Contract) (int64, error) {
		if err == nil {
			if werr := f.write(context.Background(), c); werr != nil {
				return 0, werr
			}
		}
		return taskID, err
	}
}

// priorities are the task priority keys the starts were given.
func (f *fakeStarter) priorities() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.keys)
}

func (f *fakeStarter) started() []*contractv1.Contract {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*contractv1.Contract(nil), f.seen...)
}

func (s *stack) person(t testing.TB, name, phone string) *customerv1.Customer {
	return s.customer(t, customerv1.CustomerKind_CUSTOMER_KIND_PERSON, name, phone)
}

func (s *stack) company(t *testing.T, name, phone string) *customerv1.Customer {
	return s.customer(t, customerv1.CustomerKind_CUSTOMER_KIND_COMPANY, name, phone)
}

func (s *stack) customer(t testing.TB, kind customerv1.CustomerKind, name, phone string) *customerv1.Customer {
	t.Helper()
	resp, err := s.customers.CreateCustomer(s.operator, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{
		Kind: kind, Name: name, Phones: []*customerv1.Phone{{Number: phone}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCustomer()
}

// tariff finds a default tariff by name.
func (s *stack) tariff(t *testing.T, name string) *contractv1.Tariff {
	t.Helper()
	resp, err := s.contracts.ListTariffs(s.viewer, &contractv1.ListTariffsRequest{IncludeInactive: true, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range resp.GetTariffs() {
		if tf.GetName() == name {
			return tf
		}
	}
	t.Fatalf("no tariff %q", name)
	return nil
}

func (s *stack) contract(t *testing.T, customerID, tariffID int64) *contractv1.Contract {
	t.Helper()
	resp, err := s.contracts.CreateContract(s.operator, &contractv1.CreateContractRequest{CustomerId: customerID, TariffId: tariffID, Address: "Москва, Тверская, 1"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetContract()
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
}

func wantCode(t *testing.T, err error, code codes.Code) failure {
	t.Helper()
	if err == nil {
		t.Fatalf("the call succeeded; want %s", code)
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
			f.reason = d.GetReason()
		}
	}
	if f.code != code {
		t.Fatalf("code %s (%q), want %s", f.code, f.msg, code)
	}
	return f
}

// createContract writes a contract as a connection run does — its id
// allocated, then its row recorded — without a workflow behind it.
func (s *store) createContract(ctx context.Context, c *contractRow) error {
	id, err := s.allocate(ctx, "")
	if err != nil {
		return err
	}
	c.ID = id
	made, err := s.record(ctx, c, s.micros())
	if err != nil {
		return err
	}
	*c = *made
	return nil
}
