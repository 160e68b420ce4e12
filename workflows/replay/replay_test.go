package replay

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/telecomcrm/crm/workflows/connection"
	"github.com/telecomcrm/crm/workflows/taskflow"
	"github.com/telecomcrm/crm/workflows/wizard"
)

func TestRecordedHistoriesReplayOnTheCurrentCode(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(taskflow.TaskWorkflow, workflow.RegisterOptions{Name: taskflow.WorkflowName})
			r.RegisterWorkflowWithOptions(connection.ConnectionWorkflow, workflow.RegisterOptions{Name: connection.WorkflowName})
			r.RegisterWorkflowWithOptions(wizard.Workflow, workflow.RegisterOptions{Name: wizard.WorkflowName})
			r.RegisterWorkflowWithOptions(taskflow.FollowUpWorkflow, workflow.RegisterOptions{Name: taskflow.FollowUpWorkflowName})
			logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replaying %s: %v", f, err)
			}
		})
		kinds[workflowType(f)] = true
	}
	for _, want := range []string{taskflow.WorkflowName, connection.WorkflowName, wizard.WorkflowName, taskflow.FollowUpWorkflowName} {
		if !kinds[want] {
			t.Errorf("no recorded history of %s in testdata", want)
		}
	}
}

// workflowType reads the type from a history file's name: <Type>-<case>.json.
func workflowType(path string) string {
	base := filepath.Base(path)
	for i, r := range base {
		if r == '-' {
			return base[:i]
		}
	}
	return base
}
