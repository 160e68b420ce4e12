package taskflow

import (
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/telecomcrm/crm/workflows/changes/changestest"
)

// A task's run asks Temporal about its changes once: each ask is a marker
// and a search-attribute upsert, a visibility write on the cluster. Runs
// from before the set ask about each change, as they always did.
func TestANewTaskAsksTemporalAboutItsChangesOnce(t *testing.T) {
	for name, c := range map[string]struct {
		before bool
		want   []string
	}{
		"a new run": {want: []string{"task-changes"}},
		"a run from before the set": {before: true, want: []string{"task-changes", "created-by-workflow", "process-actions",
			"deadline-timer-kept", "search-changes-only", "follow-ups"}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			asked := changestest.Watch(h.env)
			var followUps int
			h.env.RegisterWorkflowWithOptions(func(workflow.Context, FollowUpInput) (FollowUpResult, error) {
				followUps++
				return FollowUpResult{}, nil
			}, workflow.RegisterOptions{Name: FollowUpWorkflowName})
			if c.before {
				h.env.OnGetVersion(taskChanges.ID(), workflow.DefaultVersion, taskChanges.Latest()).Return(workflow.DefaultVersion)
			}
			r := route()
			r.FollowUps = []FollowUp{welcome}
			in := h.input(r)
			in.Create = &NewTask{Title: "No signal", ContractNumber: "C-000003", CustomerName: "Anna", ActorName: "ann"}
			h.send(30*time.Second, UpdateComment, Comment{Actor: member, Text: "called the customer"})
			for i, p := range []int64{21, 22, 23} {
				h.send(time.Duration(i+1)*time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: p})
			}
			h.run(in)

			if h.model.created() != 1 || followUps != 1 {
				t.Fatalf("%d tasks written, %d follow-ups started: want the task created by its run, walked to its end", h.model.created(), followUps)
			}
			got := asked.IDs()
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Errorf("asked Temporal about %v, want %v", got, want)
			}
		})
	}
}
