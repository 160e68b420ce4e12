package taskflow

import (
	"maps"
	"slices"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Search attributes let an ops engineer find a task's workflow in the
// Temporal Web UI: by task, customer, contract, route, the process it waits
// in, its group, its state, whether its SLA is breached and whether it is
// stuck (a step it could not write; see docs/RUNBOOK-STUCK.md). Ids are
// keywords: the SQL visibility store of a small cluster allows only three
// integer attributes, and ids are matched exactly anyway.
var (
	AttrTaskID      = temporal.NewSearchAttributeKeyKeyword("CrmTaskId")
	AttrTaskNumber  = temporal.NewSearchAttributeKeyKeyword("CrmTaskNumber")
	AttrCustomerID  = temporal.NewSearchAttributeKeyKeyword("CrmCustomerId")
	AttrContractID  = temporal.NewSearchAttributeKeyKeyword("CrmContractId")
	AttrRouteID     = temporal.NewSearchAttributeKeyInt64("CrmRouteId")
	AttrProcess     = temporal.NewSearchAttributeKeyKeyword("CrmProcess")
	AttrGroup       = temporal.NewSearchAttributeKeyInt64("CrmGroup")
	AttrState       = temporal.NewSearchAttributeKeyKeyword("CrmTaskState")
	AttrSLABreached = temporal.NewSearchAttributeKeyBool("CrmSlaBreached")
	AttrStuck       = temporal.NewSearchAttributeKeyBool("CrmStuck")
)

// SearchAttributes lists every custom attribute with its type, for the
// stack (or an operator) to register on the namespace.
func SearchAttributes() map[string]enums.IndexedValueType {
	out := map[string]enums.IndexedValueType{}
	for _, k := range []temporal.SearchAttributeKey{AttrTaskID, AttrTaskNumber, AttrCustomerID, AttrContractID, AttrRouteID, AttrProcess, AttrGroup, AttrState, AttrSLABreached, AttrStuck} {
		out[k.GetName()] = k.GetValueType()
	}
	return out
}

// SearchAttributeFlags are the Temporal CLI dev server's flags registering
// every attribute ("--search-attribute CrmTaskId=Keyword" …).
func SearchAttributeFlags() []string {
	attrs := SearchAttributes()
	var out []string
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		out = append(out, "--search-attribute", name+"="+strings.TrimPrefix(attrs[name].String(), "IndexedValueType"))
	}
	return out
}
