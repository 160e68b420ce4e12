package imports

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
)

// service is an import service of `rows` rows, written `batch` at a
// time; fail makes the batch from a row answer an error.
type service struct {
	contractv1.ImportServiceClient
	mu      sync.Mutex
	rows    int32
	batch   int32
	done    int32
	calls   int
	fail    map[int32]error
	states  []contractv1.ImportState
	lastWhy string
	// cancel, when set, is called as the batch from row cancelAt is asked.
	cancel   func()
	cancelAt int32
}

func (s *service) SetImportState(_ context.Context, req *contractv1.SetImportStateRequest, _ ...grpc.CallOption) (*contractv1.SetImportStateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = append(s.states, req.GetState())
	s.lastWhy = req.GetError()
	return &contractv1.SetImportStateResponse{Import: &contractv1.Import{Id: req.GetImportId(), RowsDone: s.done, TotalRows: s.rows}}, nil
}

func (s *service) ImportBatch(_ context.Context, req *contractv1.ImportBatchRequest, _ ...grpc.CallOption) (*contractv1.ImportBatchResponse, error) {
	if s.cancel != nil && req.GetFromRow() == s.cancelAt {
		s.cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if err := s.fail[req.GetFromRow()]; err != nil {
		return nil, err
	}
	if req.GetFromRow() != s.done+1 {
		return nil, status.Errorf(codes.FailedPrecondition, "at row %d, not %d", s.done+1, req.GetFromRow())
	}
	s.done = min(s.rows, s.done+s.batch)
	return &contractv1.ImportBatchResponse{NextRow: s.done + 1, Done: s.done >= s.rows}, nil
}

// run runs the workflow over svc; cancelAt, above 0, cancels it as the
// batch from that row is written.
func run(t *testing.T, svc *service, cancelAt int32) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	env.RegisterActivity(&Activities{Imports: svc})
	if cancelAt > 0 {
		svc.cancel, svc.cancelAt = env.CancelWorkflow, cancelAt
	}
	env.ExecuteWorkflow(WorkflowName, Input{ImportID: 5})
	return env
}

func TestAnImportRunsItsBatchesInOrderAndEndsDone(t *testing.T) {
	svc := &service{rows: 2500, batch: 1000, done: 1000} // resumed after its first batch
	env := run(t, svc, 0)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if svc.done != 2500 || svc.calls != 2 {
		t.Fatalf("done %d rows in %d batches; want 2500 in 2", svc.done, svc.calls)
	}
	if want := []contractv1.ImportState{contractv1.ImportState_IMPORT_STATE_RUNNING, contractv1.ImportState_IMPORT_STATE_DONE}; !slices.Equal(svc.states, want) {
		t.Fatalf("states %v, want %v", svc.states, want)
	}
}

func TestABatchTheServiceRefusesStopsTheImportAsFailedNamingWhy(t *testing.T) {
	svc := &service{rows: 3000, batch: 1000, fail: map[int32]error{1001: status.Error(codes.FailedPrecondition, "import 5 is stopped")}}
	env := run(t, svc, 0)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if svc.states[len(svc.states)-1] != contractv1.ImportState_IMPORT_STATE_FAILED || svc.lastWhy != "import 5 is stopped" || svc.calls != 2 {
		t.Fatalf("states %v (%q) after %d calls", svc.states, svc.lastWhy, svc.calls)
	}
}

func TestAnOutageIsRetriedAndTheImportGoesOn(t *testing.T) {
	svc := &service{rows: 2000, batch: 1000, fail: map[int32]error{1001: status.Error(codes.Unavailable, "the database is restarting")}}
	env := run(t, svc, 0)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if svc.states[len(svc.states)-1] != contractv1.ImportState_IMPORT_STATE_FAILED || svc.calls != 1+int(batchRetry.MaximumAttempts) {
		t.Fatalf("an outage past the retries: states %v after %d calls", svc.states, svc.calls)
	}
}

func TestACancelledImportStopsAfterItsBatchAsCancelled(t *testing.T) {
	svc := &service{rows: 1_000_000, batch: 1000}
	env := run(t, svc, 3001)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	// the test environment may end the run before the batch it cancelled
	// has returned: what that batch writes is read under the lock
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.states[len(svc.states)-1] != contractv1.ImportState_IMPORT_STATE_CANCELLED || svc.done == svc.rows {
		t.Fatalf("cancelled: states %v, %d rows done", svc.states, svc.done)
	}
}
