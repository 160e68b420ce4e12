package contract

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/wizard"
)

func withIdempotencyKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, idempotency.Header, key)
}

// envSaga runs each wizard in Temporal's workflow test environment: the
// real workflow, its retries and compensations, with its steps calling the
// stack's services over real connections.
type envSaga struct {
	t     testing.TB
	steps *wizard.Activities
	mu    sync.Mutex
	keys  []string
}

func (e *envSaga) Connect(_ context.Context, key string, in wizard.Input) (*contractv1.CreateConnectionResponse, error) {
	e.mu.Lock()
	e.keys = append(e.keys, key)
	e.mu.Unlock()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(servicetest.Logger()))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: wizard.WorkflowID(key)})
	env.RegisterWorkflowWithOptions(wizard.Workflow, workflow.RegisterOptions{Name: wizard.WorkflowName})
	env.RegisterActivity(e.steps)
	var (
		out      *contractv1.CreateConnectionResponse
		answer   error
		answered bool
	)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(wizard.UpdateResult, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { answered, answer = true, err },
			OnComplete: func(r any, err error) {
				answered, answer = true, err
				switch v := r.(type) {
				case *contractv1.CreateConnectionResponse:
					out = v
				case converter.EncodedValue:
					_ = v.Get(&out)
				}
			},
		})
	}, 0)
	env.ExecuteWorkflow(wizard.WorkflowName, in)
	if !env.IsWorkflowCompleted() || !answered {
		return nil, errors.New("the wizard's workflow did not complete and answer")
	}
	// The update answers what the workflow ends with.
	if werr := env.GetWorkflowError(); (werr == nil) != (answer == nil) {
		e.t.Errorf("the workflow ended with %v, the update answered %v", werr, answer)
	}
	return out, answer
}

// faults break the saga's calls to a service on purpose: a method that is
// down answers Unavailable without reaching the service; a lost answer
// reaches the service, which does the work, and then reads as Unavailable.
type faults struct {
	mu   sync.Mutex
	down map[string]int // calls left to refuse; -1 for every call
	lose map[string]int // answers left to lose
	hits map[string]int
}

func (f *faults) breakFor(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down == nil {
		f.down = map[string]int{}
	}
	f.down[method] = n
}

func (f *faults) loseAnswers(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lose == nil {
		f.lose = map[string]int{}
	}
	f.lose[method] = n
}

func (f *faults) calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[method]
}

// call runs a call through the faults.
func call[T any](f *faults, method string, do func() (T, error)) (T, error) {
	f.mu.Lock()
	if f.hits == nil {
		f.hits = map[string]int{}
	}
	f.hits[method]++
	var zero T
	if n := f.down[method]; n != 0 {
		if n > 0 {
			f.down[method] = n - 1
		}
		f.mu.Unlock()
		return zero, status.Error(codes.Unavailable, method+" is down")
	}
	f.mu.Unlock()
	out, err := do()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && f.lose[method] > 0 {
		f.lose[method]--
		return zero, status.Error(codes.Unavailable, "the answer of "+method+" was lost")
	}
	return out, err
}

type lossyCustomers struct {
	customerv1.CustomerServiceClient
	faults
}

func (c *lossyCustomers) CreateCustomer(ctx context.Context, req *customerv1.CreateCustomerRequest, opts ...grpc.CallOption) (*customerv1.CreateCustomerResponse, error) {
	return call(&c.faults, "CreateCustomer", func() (*customerv1.CreateCustomerResponse, error) {
		return c.CustomerServiceClient.CreateCustomer(ctx, req, opts...)
	})
}

func (c *lossyCustomers) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest, opts ...grpc.CallOption) (*customerv1.GetCustomerResponse, error) {
	return call(&c.faults, "GetCustomer", func() (*customerv1.GetCustomerResponse, error) {
		return c.CustomerServiceClient.GetCustomer(ctx, req, opts...)
	})
}

func (c *lossyCustomers) DeleteCustomer(ctx context.Context, req *customerv1.DeleteCustomerRequest, opts ...grpc.CallOption) (*customerv1.DeleteCustomerResponse, error) {
	return call(&c.faults, "DeleteCustomer", func() (*customerv1.DeleteCustomerResponse, error) {
		return c.CustomerServiceClient.DeleteCustomer(ctx, req, opts...)
	})
}

type lossyContracts struct {
	contractv1.ContractServiceClient
	faults
}

func (c *lossyContracts) SuggestTariffs(ctx context.Context, req *contractv1.SuggestTariffsRequest, opts ...grpc.CallOption) (*contractv1.SuggestTariffsResponse, error) {
	return call(&c.faults, "SuggestTariffs", func() (*contractv1.SuggestTariffsResponse, error) {
		return c.ContractServiceClient.SuggestTariffs(ctx, req, opts...)
	})
}

func (c *lossyContracts) CreateContract(ctx context.Context, req *contractv1.CreateContractRequest, opts ...grpc.CallOption) (*contractv1.CreateContractResponse, error) {
	return call(&c.faults, "CreateContract", func() (*contractv1.CreateContractResponse, error) {
		return c.ContractServiceClient.CreateContract(ctx, req, opts...)
	})
}

func (c *lossyContracts) ListContracts(ctx context.Context, req *contractv1.ListContractsRequest, opts ...grpc.CallOption) (*contractv1.ListContractsResponse, error) {
	return call(&c.faults, "ListContracts", func() (*contractv1.ListContractsResponse, error) {
		return c.ContractServiceClient.ListContracts(ctx, req, opts...)
	})
}

func (s *stack) customerFaults() *faults { return &s.saga.steps.Customers.(*lossyCustomers).faults }
func (s *stack) contractFaults() *faults { return &s.saga.steps.Contracts.(*lossyContracts).faults }

func TestWizardStepsRetriedAfterLostAnswersMakeOneCustomerAndOneContract(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	// The customer and the contract are written, but the worker never
	// hears so (it crashed, or the answer timed out): the retried steps
	// are answered from the services' ledgers with what was made.
	s.customerFaults().loseAnswers("CreateCustomer", 2)
	s.contractFaults().loseAnswers("CreateContract", 1)
	resp, err := s.connections.CreateConnection(s.operator, &contractv1.CreateConnectionRequest{
		Customer: newCustomer("Повторов", "+79120000011"), TariffId: s.tariff(t, "Home 100").GetId(), Address: "Москва, Тверская, 11",
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.customerFaults().calls("CreateCustomer"); n != 3 {
		t.Fatalf("the customer step ran %d times, want 3", n)
	}
	if c, p := s.customerRows(t); c != 1 || p != 1 || s.count(t, "contracts") != 1 {
		t.Fatalf("%d customers, %d phones, %d contracts; want one each", c, p, s.count(t, "contracts"))
	}
	if n := len(s.starter.started()); n != 1 {
		t.Fatalf("%d connections started, want 1", n)
	}
	if resp.GetContract().GetCustomerId() != resp.GetCustomer().GetId() || resp.GetContract().GetConnectionTaskId() == 0 {
		t.Fatalf("answered %v", resp)
	}
}

func TestWizardFailingAtAnyStepLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		requirements bool
		brk          func(s *stack)
		code         codes.Code
		field        string
	}{
		{"the customer service down", false, func(s *stack) { s.customerFaults().breakFor("CreateCustomer", -1) }, codes.Unavailable, ""},
		{"the phone taken by another customer", false, func(s *stack) { s.person(t, "Владелец", "+79120000021") }, codes.AlreadyExists, "customer.phones[0].number"},
		{"no tariff fits", true, func(*stack) {}, codes.InvalidArgument, "requirements"},
		{"ranking down", true, func(s *stack) { s.contractFaults().breakFor("SuggestTariffs", -1) }, codes.Unavailable, ""},
		{"the contract service down", false, func(s *stack) { s.contractFaults().breakFor("CreateContract", -1) }, codes.Unavailable, ""},
		{"the connection refused", false, func(s *stack) {
			s.starter.answer(0, status.Error(codes.FailedPrecondition, "route 1 has no processes"))
		}, codes.FailedPrecondition, ""},
		{"the removal itself failing a while", false, func(s *stack) {
			s.starter.answer(0, status.Error(codes.FailedPrecondition, "route 1 has no processes"))
			s.customerFaults().breakFor("DeleteCustomer", 3)
			s.contractFaults().breakFor("ListContracts", 2)
		}, codes.FailedPrecondition, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			tc.brk(s)
			before, _ := s.customerRows(t) // one phone per customer here
			req := &contractv1.CreateConnectionRequest{Customer: newCustomer("Никто", "+79120000021"), Address: "Москва, Тверская, 21"}
			if tc.requirements {
				req.Requirements = &contractv1.TariffRequirements{Technology: "FTTB", MinSpeedMbps: 1000000}
			} else {
				req.TariffId = s.tariff(t, "Home 100").GetId()
			}
			_, err := s.connections.CreateConnection(s.operator, req)
			f := wantCode(t, err, tc.code)
			if tc.field != "" {
				if _, ok := f.fields[tc.field]; !ok {
					t.Fatalf("refused on %v, want %s", f.fields, tc.field)
				}
			}
			s.wantLeftBehind(t, before, before)
		})
	}
}

func TestWizardRefusesAWrongTariffBeforeItStarts(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for name, tariff := range map[string]int64{"unknown": 999, "for companies": s.tariff(t, "Business 200").GetId()} {
		_, err := s.connections.CreateConnection(s.operator, &contractv1.CreateConnectionRequest{
			Customer: newCustomer("Рано", "+79120000031"), TariffId: tariff, Address: "Москва, Тверская, 31",
		})
		if f := wantCode(t, err, codes.InvalidArgument); f.fields["tariffId"] == "" {
			t.Fatalf("%s tariff: refused on %v, want tariffId", name, f.fields)
		}
	}
	if n := len(s.saga.keys); n != 0 {
		t.Fatalf("%d sagas started for requests refused up front", n)
	}
}

func TestWizardWithTheSameIdempotencyKeyRunsOneSaga(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := withIdempotencyKey(s.operator, "wizard-press-1")
	req := &contractv1.CreateConnectionRequest{Customer: newCustomer("Дважды", "+79120000041"), TariffId: s.tariff(t, "Home 100").GetId(), Address: "Москва, Тверская, 41"}
	// The contract service answers Unavailable: the key is released (a
	// retry may change that answer), and the retry runs the saga again
	// under the same name, so its steps find what the first run made.
	s.contractFaults().loseAnswers("CreateContract", 4)
	_, err := s.connections.CreateConnection(ctx, req)
	wantCode(t, err, codes.Unavailable)
	resp, err := s.connections.CreateConnection(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.customerRows(t); c != 1 || s.count(t, "contracts") != 1 {
		t.Fatalf("%d customers, %d contracts after a retry; want one each", c, s.count(t, "contracts"))
	}
	if len(s.saga.keys) != 2 || s.saga.keys[0] != s.saga.keys[1] {
		t.Fatalf("the sagas ran under %q", s.saga.keys)
	}
	if resp.GetContract().GetCustomerId() != resp.GetCustomer().GetId() {
		t.Fatalf("answered %v", resp)
	}
}
