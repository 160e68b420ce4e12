//go:build record

package replay

import (
	"context"
	"testing"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/workflows/connection"
	"github.com/telecomcrm/crm/workflows/taskflow"
	"github.com/telecomcrm/crm/workflows/wizard"
)

// TestRecordConnectionTaskWrittenByItsWorkflow records a connection whose
// workflow writes its contract, plans its task and starts the task's
// workflow, which writes the task and tells it so; the task then runs its
// route and the contract is activated. Run it alone (-run).
func TestRecordConnectionTaskWrittenByItsWorkflow(t *testing.T) {
	c, _ := recorder(t)
	ctx := context.Background()
	tc := &taskflow.Client{Temporal: c, TaskQueue: "record"}
	start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: connection.WorkflowID(8), TaskQueue: "record", WorkflowIDConflictPolicy: 1}, connection.ConnectionWorkflow,
		connection.Input{ContractID: 8, CreatedBy: 10, Contract: &connection.NewContract{CustomerID: 1, TariffID: 2, Address: "Москва"}})
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start, UpdateOptions: client.UpdateWorkflowOptions{UpdateName: connection.UpdateTask, WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	var created *taskv1.Task
	if err := h.Get(ctx, &created); err != nil {
		t.Fatal(err)
	}
	if created.GetKind() != taskv1.TaskKind_TASK_KIND_CONNECTION || created.GetTitle() != "Подключение C-000008" {
		t.Fatalf("the connection answered %v, want its task as written", created)
	}
	for _, p := range []int64{1, 2} {
		if _, err := tc.Send(ctx, created.GetId(), taskflow.UpdateAdvance, taskflow.Advance{Actor: member, ProcessID: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.GetWorkflow(ctx, connection.WorkflowID(8), "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	save(t, c, connection.WorkflowID(8), "ConnectionWorkflow-task-written-by-its-workflow.json")
	save(t, c, taskflow.WorkflowID(created.GetId()), "TaskWorkflow-connection-written-by-itself.json")
}

// wizardServices answers the wizard's steps as the customer and contract
// services would; a customer named "refused" gets no contract.
type wizardServices struct {
	customerv1.CustomerServiceClient
	contractv1.ContractServiceClient
}

func (wizardServices) CreateCustomer(_ context.Context, req *customerv1.CreateCustomerRequest, _ ...grpc.CallOption) (*customerv1.CreateCustomerResponse, error) {
	c := req.GetCustomer()
	c.Id = 5
	return &customerv1.CreateCustomerResponse{Customer: c}, nil
}

func (wizardServices) DeleteCustomer(context.Context, *customerv1.DeleteCustomerRequest, ...grpc.CallOption) (*customerv1.DeleteCustomerResponse, error) {
	return &customerv1.DeleteCustomerResponse{}, nil
}

func (wizardServices) ListContracts(context.Context, *contractv1.ListContractsRequest, ...grpc.CallOption) (*contractv1.ListContractsResponse, error) {
	return &contractv1.ListContractsResponse{}, nil
}

func (wizardServices) CreateContract(_ context.Context, req *contractv1.CreateContractRequest, _ ...grpc.CallOption) (*contractv1.CreateContractResponse, error) {
	if req.GetAddress() == "refused" {
		return nil, status.Error(codes.InvalidArgument, "tariff 2 is no longer offered")
	}
	return &contractv1.CreateContractResponse{Contract: &contractv1.Contract{Id: 8, CustomerId: req.GetCustomerId(), TariffId: req.GetTariffId(), ConnectionTaskId: 13}}, nil
}

// TestRecordWizard records the connection wizard's saga twice: a new
// customer connected, and one whose contract is refused, so the customer
// it registered is removed again. Run it alone (-run).
func TestRecordWizard(t *testing.T) {
	c, _ := recorder(t)
	ctx := context.Background()
	press := func(key, address string) error {
		start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: wizard.WorkflowID(key), TaskQueue: "record", WorkflowIDConflictPolicy: 1}, wizard.WorkflowName,
			wizard.Input{Actor: auth.Principal{UserID: 10, Login: "ann"}, Request: &contractv1.CreateConnectionRequest{
				Customer: &customerv1.Customer{Name: "Олегов Олег"}, TariffId: 2, Address: address,
			}})
		h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start, UpdateOptions: client.UpdateWorkflowOptions{UpdateName: wizard.UpdateResult, WaitForStage: client.WorkflowUpdateStageCompleted}})
		if err != nil {
			return err
		}
		var out *contractv1.CreateConnectionResponse
		if err := h.Get(ctx, &out); err != nil {
			return err
		}
		return c.GetWorkflow(ctx, wizard.WorkflowID(key), "").Get(ctx, nil)
	}
	if err := press("connected", "Москва"); err != nil {
		t.Fatal(err)
	}
	if err := press("compensated", "refused"); err == nil {
		t.Fatal("a refused contract connected")
	}
	_ = c.GetWorkflow(ctx, wizard.WorkflowID("compensated"), "").Get(ctx, nil)
	save(t, c, wizard.WorkflowID("connected"), "ConnectionWizardWorkflow-connected.json")
	save(t, c, wizard.WorkflowID("compensated"), "ConnectionWizardWorkflow-compensated.json")
}
