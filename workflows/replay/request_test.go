//go:build record

package replay

import (
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
)

func historyRequest(id string) *workflowservice.GetWorkflowExecutionHistoryRequest {
	return &workflowservice.GetWorkflowExecutionHistoryRequest{Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: id}}
}
