package changes_test

import (
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/telecomcrm/crm/workflows/changes"
	"github.com/telecomcrm/crm/workflows/changes/changestest"
)

var set = changes.New("demo-changes", map[string]workflow.Version{"first": 1, "second": 1, "later": 2})

// taken runs a workflow that opens the set and asks about each change,
// and returns what it took and what it asked Temporal; opened, when not
// zero, is the level the run finds recorded.
func taken(t *testing.T, opened workflow.Version) (took map[string]bool, asked []string) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	watch := changestest.Watch(env)
	if opened != 0 {
		env.OnGetVersion(set.ID(), workflow.DefaultVersion, set.Latest()).Return(opened)
	}
	env.ExecuteWorkflow(func(ctx workflow.Context) (map[string]bool, error) {
		run := set.Open(ctx)
		out := map[string]bool{}
		for _, c := range []string{"first", "second", "later", "first"} {
			out[c] = run.Has(ctx, c)
		}
		return out, nil
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if err := env.GetWorkflowResult(&took); err != nil {
		t.Fatal(err)
	}
	return took, watch.IDs()
}

func TestANewRunAsksOnceForTheWholeSet(t *testing.T) {
	took, asked := taken(t, 0)
	if !took["first"] || !took["second"] || !took["later"] {
		t.Errorf("took %v, want every change", took)
	}
	if !slices.Equal(asked, []string{"demo-changes"}) {
		t.Errorf("asked Temporal about %v, want only the set", asked)
	}
}

func TestARunOpenedAtAnOlderLevelAsksOnlyAboutTheLaterChanges(t *testing.T) {
	took, asked := taken(t, 1)
	if !took["first"] || !took["second"] || !took["later"] {
		t.Errorf("took %v, want every change (a live run takes the later one when it asks)", took)
	}
	if !slices.Equal(asked, []string{"demo-changes", "later"}) {
		t.Errorf("asked %v, want the set, then the change after its level", asked)
	}
}

func TestARunFromBeforeTheSetAsksAboutEachChange(t *testing.T) {
	_, asked := taken(t, workflow.DefaultVersion)
	if !slices.Equal(asked, []string{"demo-changes", "first", "second", "later"}) {
		t.Errorf("asked %v, want the set, then each change once", asked)
	}
}

func TestAChangeTheSetDoesNotNameIsAMistake(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(func(ctx workflow.Context) (bool, error) {
		return set.Open(ctx).Has(ctx, "unlisted"), nil
	})
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), `demo-changes has no change "unlisted"`) {
		t.Errorf("asking about an unlisted change ended with %v", err)
	}
}

func TestAChangeBelowLevelOneIsAMistake(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a change at level 0 went unnoticed")
		}
	}()
	changes.New("demo-changes", map[string]workflow.Version{"first": 0})
}
