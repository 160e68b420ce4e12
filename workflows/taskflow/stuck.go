package taskflow

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// A task is stuck when a step could not be written after its bounded
// retry: commands are refused at once (never left hanging on the lock),
// the task is marked for people (the CrmStuck search attribute, the memo,
// the read model) and the pending work — a timer's step, a closed task's
// contract effect — is retried on a durable backoff timer, or at once on
// the retry signal or update. A command whose step failed is not retried:
// its caller was told.

// Memo keys the Temporal Web UI shows for a stuck task.
const (
	MemoStuck      = "stuck"
	MemoStuckError = "stuckError"
	MemoStuckSince = "stuckSince"
)

// retryDelay is the wait before a stuck task's next retry: a minute,
// doubling up to a quarter of an hour, so a short outage heals itself
// quickly and a long one costs one write a quarter hour per task.
func retryDelay(attempts int) time.Duration {
	if attempts >= 4 {
		return 15 * time.Minute
	}
	return time.Minute << attempts
}

func (w *taskWorkflow) stuckError() error {
	return refuse(ErrStuck, "task %s is stuck: its last step could not be written; an engineer has been told", w.in.Number)
}

// refusedData tells whether a failed write was the read model refusing the
// step's data (a retry cannot help), how to refuse the command for it
// (ErrRefused, or ErrClash for a booking that overlaps another) and why.
func refusedData(err error) (kind, msg string, ok bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() {
		return "", "", false
	}
	switch app.Type() {
	case "InvalidArgument", "FailedPrecondition":
		return ErrRefused, app.Message(), true
	case "AlreadyExists":
		return ErrClash, app.Message(), true
	}
	return "", "", false
}

// commandFailed answers a command whose step could not be written: the
// data refused is the caller's mistake; anything else marks the task
// stuck.
func (w *taskWorkflow) commandFailed(ctx workflow.Context, err error) error {
	if !w.guarded(ctx) {
		return err
	}
	if kind, msg, ok := refusedData(err); ok {
		return refuse(kind, "%s", msg)
	}
	w.becomeStuck(ctx, err)
	return w.stuckError()
}

// failure is what an engineer reads of an error: the innermost message,
// on one line, short enough for the read model's column.
func failure(err error) string {
	msg := err.Error()
	var app *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	switch {
	case errors.As(err, &app):
		msg = app.Message()
		if app.Type() != "" {
			msg = app.Type() + ": " + msg
		}
	case errors.As(err, &timeout):
		msg = "timed out: " + timeout.Error()
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	for utf8.RuneCountInString(msg) > 400 {
		msg = string([]rune(msg)[:400])
	}
	return msg
}

// becomeStuck marks the task stuck (or records the latest failure of one
// already stuck) where an ops engineer looks: the search attribute, the
// memo and the workflow's current details.
func (w *taskWorkflow) becomeStuck(ctx workflow.Context, err error) {
	if !w.stuck() {
		w.st.StuckSince, w.st.StuckAttempts, w.st.StuckMarked = workflow.Now(ctx), 0, false
		_ = workflow.UpsertTypedSearchAttributes(ctx, AttrStuck.ValueSet(true))
	}
	w.st.StuckError = failure(err)
	workflow.GetLogger(ctx).Error("task is stuck: a step could not be written", "task", w.in.Number, "error", w.st.StuckError, "attempts", w.st.StuckAttempts)
	w.showStuck(ctx)
}

func (w *taskWorkflow) clearStuck(ctx workflow.Context) {
	w.st.StuckSince, w.st.StuckError, w.st.StuckAttempts, w.st.StuckMarked = time.Time{}, "", 0, false
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrStuck.ValueSet(false))
	workflow.GetLogger(ctx).Info("stuck task recovered", "task", w.in.Number)
	w.showStuck(ctx)
}

func (w *taskWorkflow) showStuck(ctx workflow.Context) {
	memo := map[string]any{MemoStuck: w.stuck(), MemoStuckError: w.st.StuckError, MemoStuckSince: ""}
	details := ""
	if w.stuck() {
		memo[MemoStuckSince] = w.st.StuckSince.UTC().Format(time.RFC3339)
		details = "**Stuck** since " + w.st.StuckSince.UTC().Format(time.RFC3339) + ": its last step could not be written.\n\n" +
			"Last error: `" + w.st.StuckError + "`\n\nRetry once fixed: signal `" + SignalRetry + "`."
	}
	_ = workflow.UpsertMemo(ctx, memo)
	workflow.SetCurrentDetails(ctx, details)
}

// markReadModel tells the read model whether the task is stuck (people
// see it in the console). A write that fails is retried with the task.
func (w *taskWorkflow) markReadModel(ctx workflow.Context, stuck bool) error {
	var a *Activities
	req := &taskv1.SetTaskStuckRequest{TaskId: w.in.TaskID, Stuck: stuck, Reason: w.st.StuckError, Time: timestamppb.New(workflow.Now(ctx))}
	return workflow.ExecuteLocalActivity(w.writeOptions(ctx), a.MarkStuck, req).Get(ctx, nil)
}

// whileStuck tells the read model, then waits for the next retry (the
// backoff timer, a retry signal, or a retry update that already healed
// the task) and makes it.
func (w *taskWorkflow) whileStuck(ctx workflow.Context) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	if w.stuck() && !w.st.StuckMarked {
		w.st.StuckMarked = w.markReadModel(ctx, true) == nil
	}
	w.mu.Unlock()
	wait := retryDelay(w.st.StuckAttempts)
	w.nextRetry = workflow.Now(ctx).Add(wait)
	if err := w.awaitUntil(ctx, w.nextRetry, func() bool { return w.retryAsked || !w.stuck() }); err != nil {
		return err
	}
	w.retryAsked = false
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if w.stuck() {
		w.recover(ctx)
	}
	return nil
}

// recover retries a stuck task's pending work, then clears the mark; the
// caller holds the lock.
func (w *taskWorkflow) recover(ctx workflow.Context) {
	w.st.StuckAttempts++
	if !w.st.StuckMarked {
		w.st.StuckMarked = w.markReadModel(ctx, true) == nil
	}
	var err error
	switch {
	case w.open() && w.st.ActionRefused:
		// the main loop runs the refused action again
		w.st.ActionRefused, w.st.Acting = false, true
	case w.open() && w.st.Acted:
		err = w.afterAction(ctx)
	case w.open():
		err = w.fireDue(ctx)
	case !w.settled:
		if err = w.applyEffect(ctx); err == nil {
			w.settled = true
		}
	}
	if err == nil {
		err = w.markReadModel(ctx, false)
	}
	if err != nil {
		w.becomeStuck(ctx, err)
		return
	}
	w.clearStuck(ctx)
}

func (w *taskWorkflow) validateRetry(Retry) error {
	if !w.stuck() {
		return refuse(ErrNotStuck, "task %s is not stuck; there is nothing to retry", w.in.Number)
	}
	return nil
}

// retry retries a stuck task's pending work now and answers where it
// stands.
func (w *taskWorkflow) retry(ctx workflow.Context, _ Retry) (Snapshot, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return Snapshot{}, err
	}
	defer w.mu.Unlock()
	if w.stuck() {
		w.recover(ctx)
	}
	return w.snapshot(), nil
}
