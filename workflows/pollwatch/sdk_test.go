package pollwatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/telecomcrm/crm/workflows/internal/devserver"
)

func echo(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, echoActivity, s).Get(ctx, &out)
	return out, err
}

func echoActivity(_ context.Context, s string) (string, error) { return s, nil }

// The figures Watch reads are the SDK's internal names: this runs a real
// worker against a dev server and sees both pollers' polls come back
// through them, so an SDK upgrade that renames one fails here.
func TestARealWorkersPollsReachTheWatchThroughTheSDKsFigures(t *testing.T) {
	srv := devserver.Start(t, "--headless")
	ctx := context.Background()

	w, err := New(DefaultBound, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewClientFromExistingWithContext(ctx, srv.Client(), client.Options{MetricsHandler: w.Handler(client.MetricsNopHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wk := worker.New(c, "pollwatch", worker.Options{})
	wk.RegisterWorkflow(echo)
	wk.RegisterActivity(echoActivity)
	if err := wk.Start(); err != nil {
		t.Fatal(err)
	}
	defer wk.Stop()
	if r, _ := w.Check(); !strings.HasPrefix(r.Pollers["workflow"], "no poll back yet") {
		t.Fatalf("before any task: %+v", r)
	}

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "pollwatch"}, echo, "hi")
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "hi" {
		t.Fatalf("workflow: %q %v", out, err)
	}
	r, healthy := w.Check()
	if !healthy || !strings.HasPrefix(r.Pollers["workflow"], "a poll came back") || !strings.HasPrefix(r.Pollers["activity"], "a poll came back") {
		t.Fatalf("after a workflow and its activity ran: %+v", r)
	}
}
