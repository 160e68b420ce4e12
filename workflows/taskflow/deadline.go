package taskflow

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// deadline is the one durable timer a task keeps for the next moment it
// must act on its own (an SLA, an idle rule, a visit, a stuck task's
// retry).
//
// workflow.AwaitWithTimeout leaves its timer running when the condition
// comes first (the SDK's flag that would cancel it is off in 1.51), and the
// task waits again after every command: each step left a timer behind that
// fired at its old moment, one workflow task with nothing to do per step,
// hours later. A task now keeps its timer while the moment stays, and
// cancels it when the moment moves.
type deadline struct {
	at     time.Time
	fired  workflow.Future
	cancel workflow.CancelFunc
}

// awaitUntil blocks until wake is true or the moment at has come (zero:
// no deadline, wake alone).
func (w *taskWorkflow) awaitUntil(ctx workflow.Context, at time.Time, wake func() bool) error {
	if !w.takes.Has(ctx, "deadline-timer-kept") {
		// Runs recorded before started a timer at every wait.
		if at.IsZero() {
			return workflow.Await(ctx, wake)
		}
		_, err := workflow.AwaitWithTimeout(ctx, at.Sub(workflow.Now(ctx)), wake)
		return err
	}
	d := &w.timer
	if wake() {
		return nil
	}
	if d.fired != nil && !d.at.Equal(at) {
		d.cancel()
		d.fired = nil
	}
	if at.IsZero() {
		return workflow.Await(ctx, wake)
	}
	if d.fired == nil {
		tctx, cancel := workflow.WithCancel(ctx)
		d.at, d.cancel = at, cancel
		d.fired = workflow.NewTimerWithOptions(tctx, at.Sub(workflow.Now(ctx)), workflow.TimerOptions{Summary: "Next deadline"})
	}
	fired := d.fired
	if err := workflow.Await(ctx, func() bool { return wake() || fired.IsReady() }); err != nil {
		return err
	}
	if fired.IsReady() {
		d.fired = nil
	}
	return nil
}
