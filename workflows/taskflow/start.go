package taskflow

import (
	"strconv"

	"go.temporal.io/sdk/temporal"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// NewInput builds a new task's workflow input from its read-model row and
// the route version it runs on.
func NewInput(t *taskv1.Task, r *taskv1.Route) Input {
	return Input{
		TaskID:     t.GetId(),
		Number:     t.GetNumber(),
		Kind:       t.GetKind(),
		ContractID: t.GetContractId(),
		CustomerID: t.GetCustomerId(),
		CreatedBy:  t.GetCreatedBy(),
		Route:      RouteFromProto(r),
	}
}

// InitialSearchAttributes are set when a task's workflow starts.
func InitialSearchAttributes(t *taskv1.Task) temporal.SearchAttributes {
	p := t.GetCurrentProcess()
	return temporal.NewSearchAttributes(
		AttrTaskID.ValueSet(strconv.FormatInt(t.GetId(), 10)),
		AttrTaskNumber.ValueSet(t.GetNumber()),
		AttrCustomerID.ValueSet(strconv.FormatInt(t.GetCustomerId(), 10)),
		AttrContractID.ValueSet(strconv.FormatInt(t.GetContractId(), 10)),
		AttrRouteID.ValueSet(t.GetRouteId()),
		AttrProcess.ValueSet(p.GetName()),
		AttrGroup.ValueSet(p.GetGroupId()),
		AttrState.ValueSet(taskv1.TaskState_TASK_STATE_OPEN.String()),
		AttrSLABreached.ValueSet(false),
	)
}
