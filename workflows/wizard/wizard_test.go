package wizard

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

// services records the saga's calls, in order.
type services struct {
	customerv1.CustomerServiceClient
	contractv1.ContractServiceClient
	calls    []string
	contract error
}

func (s *services) CreateCustomer(context.Context, *customerv1.CreateCustomerRequest, ...grpc.CallOption) (*customerv1.CreateCustomerResponse, error) {
	s.calls = append(s.calls, "CreateCustomer")
	return &customerv1.CreateCustomerResponse{Customer: &customerv1.Customer{Id: 5, Name: "Олегов"}}, nil
}

func (s *services) DeleteCustomer(context.Context, *customerv1.DeleteCustomerRequest, ...grpc.CallOption) (*customerv1.DeleteCustomerResponse, error) {
	s.calls = append(s.calls, "DeleteCustomer")
	return &customerv1.DeleteCustomerResponse{}, nil
}

func (s *services) ListContracts(context.Context, *contractv1.ListContractsRequest, ...grpc.CallOption) (*contractv1.ListContractsResponse, error) {
	s.calls = append(s.calls, "ListContracts")
	return &contractv1.ListContractsResponse{}, nil
}

func (s *services) CreateContract(_ context.Context, req *contractv1.CreateContractRequest, _ ...grpc.CallOption) (*contractv1.CreateContractResponse, error) {
	s.calls = append(s.calls, "CreateContract")
	if s.contract != nil {
		return nil, s.contract
	}
	return &contractv1.CreateContractResponse{Contract: &contractv1.Contract{Id: 8, CustomerId: req.GetCustomerId(), ConnectionTaskId: 13}}, nil
}

func press(t *testing.T, svc *services) (*contractv1.CreateConnectionResponse, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	env.RegisterActivity(&Activities{Customers: svc, Contracts: svc, Users: auth.NewForwarder(auth.NewKeyring([]byte("0123456789abcdef0123456789abcdef")), "worker")})
	var (
		out    *contractv1.CreateConnectionResponse
		answer error
		done   bool
	)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateResult, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { t.Errorf("update rejected: %v", err) },
			OnComplete: func(v any, err error) {
				done, answer = true, err
				out, _ = v.(*contractv1.CreateConnectionResponse)
			},
		})
	}, 0)
	env.ExecuteWorkflow(WorkflowName, Input{Actor: auth.Principal{UserID: 1}, Request: &contractv1.CreateConnectionRequest{
		Customer: &customerv1.Customer{Name: "Олегов"}, TariffId: 2, Address: "Москва",
	}})
	if !env.IsWorkflowCompleted() || !done {
		t.Fatal("the saga did not complete and answer")
	}
	return out, answer
}

func TestTheSagaAnswersTheCustomerAndTheContract(t *testing.T) {
	svc := &services{}
	out, err := press(t, svc)
	if err != nil {
		t.Fatal(err)
	}
	if out.GetCustomer().GetId() != 5 || out.GetContract().GetId() != 8 || out.GetContract().GetConnectionTaskId() != 13 {
		t.Fatalf("answered %v", out)
	}
}

func TestARefusedContractUndoesTheCustomerBeforeTheAnswer(t *testing.T) {
	svc := &services{contract: status.Error(codes.FailedPrecondition, "route 1 has no processes")}
	_, err := press(t, svc)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrRefused {
		t.Fatalf("answered %v, want a refusal", err)
	}
	var r Refusal
	var st spb.Status
	if err := app.Details(&r); err != nil || proto.Unmarshal(r.Status, &st) != nil {
		t.Fatalf("the refusal's details: %v", err)
	}
	if r.Step != StepOpenContract || codes.Code(st.GetCode()) != codes.FailedPrecondition || st.GetMessage() != "route 1 has no processes" {
		t.Fatalf("refused at %s with %v", r.Step, &st)
	}
	want := []string{"CreateCustomer", "CreateContract", "ListContracts", "DeleteCustomer"}
	if len(svc.calls) != len(want) {
		t.Fatalf("calls %v, want %v", svc.calls, want)
	}
	for i := range want {
		if svc.calls[i] != want[i] {
			t.Fatalf("calls %v, want %v", svc.calls, want)
		}
	}
}
