package taskflow

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// contractDesk stands in for the contract service's actions: it records
// each call; answers, when set, answers the calls in turn.
type contractDesk struct {
	mu      sync.Mutex
	calls   []ContractAction
	answers []error
}

func (d *contractDesk) Change(_ context.Context, a ContractAction) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, a)
	if len(d.answers) == 0 {
		return nil
	}
	err := d.answers[0]
	d.answers = d.answers[1:]
	return err
}

type bell struct {
	notifierv1.NotifierServiceClient
	mu      sync.Mutex
	notices []*notifierv1.TaskNotice
}

func (b *bell) EnqueueTaskEvent(_ context.Context, req *notifierv1.EnqueueTaskEventRequest, _ ...grpc.CallOption) (*notifierv1.EnqueueTaskEventResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notices = append(b.notices, req.GetNotice())
	return &notifierv1.EnqueueTaskEventResponse{Queued: 1}, nil
}

const billing int64 = 4

// actionRoute is a route whose second process runs the action; a third,
// manual one ("Manual fix") is where a failed action may go.
func actionRoute(a *Action) Route {
	return Route{ID: 3, Version: 2, Name: "Tariff change", Processes: []Process{
		{ID: 31, Name: "Request check", GroupID: support},
		{ID: 32, Name: "Billing change", GroupID: billing, Action: a},
		{ID: 33, Name: "Manual fix", GroupID: billing},
	}, Rules: []Rule{{Kind: taskv1.CloseRuleKind_CLOSE_RULE_KIND_ROUTE_COMPLETED, Outcome: taskv1.TaskState_TASK_STATE_CLOSED}}}
}

type actionHarness struct {
	*harness
	desk *contractDesk
	bell *bell
}

func newActionHarness(t *testing.T, webhooks Webhooks) *actionHarness {
	h := &actionHarness{desk: &contractDesk{}, bell: &bell{}}
	h.harness = newHarnessWithActivities(t, &effects{}, func(a *Activities) {
		a.ContractActions, a.Notifier, a.Webhooks = h.desk, h.bell, webhooks
	})
	saved := actionRetry
	actionRetry = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second}
	t.Cleanup(func() { actionRetry = saved })
	return h
}

func (h *actionHarness) tariffInput(r Route) Input {
	in := h.input(r)
	in.Params = Params{TariffID: 9}
	return in
}

func kindsOf(k ...taskv1.TaskEventKind) []taskv1.TaskEventKind { return k }

const (
	advanced     = taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED
	closedKind   = taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED
	actionFailed = taskv1.TaskEventKind_TASK_EVENT_KIND_ACTION_FAILED
)

func TestAChangeTariffProcessChangesTheContractAndMovesOnByItself(t *testing.T) {
	h := newActionHarness(t, Webhooks{})
	change := &Action{Kind: taskv1.ActionKind_ACTION_KIND_CONTRACT, Operation: taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF}
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	mine := h.send(time.Minute+time.Second, UpdateAdvance, Advance{Actor: manager, ProcessID: 32})
	h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	res := h.run(h.tariffInput(actionRoute(change)))

	if len(h.desk.calls) != 1 || h.desk.calls[0] != (ContractAction{ContractID: 3, Operation: taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF, TariffID: 9}) {
		t.Fatalf("contract calls %+v", h.desk.calls)
	}
	if got := h.model.kinds(); !equal(got, kindsOf(advanced, advanced, closedKind)) {
		t.Fatalf("steps %v", got)
	}
	auto := h.model.steps[1]
	if auto.GetFromProcessId() != 32 || auto.GetProcessId() != 33 || auto.GetActorId() != 0 {
		t.Fatalf("the automatic step %v", auto)
	}
	if mine.done || !mine.refusedAs(ErrAutomatic) && !mine.refusedAs(ErrMoved) {
		t.Fatalf("a person's advance of an automatic process: %+v", mine)
	}
	if res.Outcome != taskv1.TaskState_TASK_STATE_CLOSED {
		t.Fatalf("result %+v", res)
	}
}

func TestAContractOperationRunsAsTheActivityNamedByIt(t *testing.T) {
	for op, name := range map[taskv1.ContractOperation]string{
		taskv1.ContractOperation_CONTRACT_OPERATION_ACTIVATE:      ActivityContractActivate,
		taskv1.ContractOperation_CONTRACT_OPERATION_SUSPEND:       ActivityContractSuspend,
		taskv1.ContractOperation_CONTRACT_OPERATION_RESUME:        ActivityContractResume,
		taskv1.ContractOperation_CONTRACT_OPERATION_TERMINATE:     ActivityContractTerminate,
		taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF: ActivityContractChangeTariff,
	} {
		t.Run(name, func(t *testing.T) {
			h := newActionHarness(t, Webhooks{})
			var ran []string
			h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				ran = append(ran, info.ActivityType.Name)
			})
			h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
			h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
			h.run(h.tariffInput(actionRoute(&Action{Kind: taskv1.ActionKind_ACTION_KIND_CONTRACT, Operation: op})))
			if !equal(ran, []string{name}) || len(h.desk.calls) != 1 || h.desk.calls[0].Operation != op {
				t.Fatalf("activities %v, calls %+v", ran, h.desk.calls)
			}
		})
	}
}

func TestARefusedActionGoesOnTheTimelineAndToTheFailureProcess(t *testing.T) {
	h := newActionHarness(t, Webhooks{})
	h.desk.answers = []error{status.Error(codes.FailedPrecondition, "contract C-000003 is terminated")}
	fail := &Action{Kind: taskv1.ActionKind_ACTION_KIND_CONTRACT, Operation: taskv1.ContractOperation_CONTRACT_OPERATION_RESUME,
		OnFailure: taskv1.FailureRule_FAILURE_RULE_GO_TO_PROCESS, FailureProcessID: 33}
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	h.run(h.input(actionRoute(fail)))

	if len(h.desk.calls) != 1 {
		t.Fatalf("a refusal was retried: %d calls", len(h.desk.calls))
	}
	if got := h.model.kinds(); !equal(got, kindsOf(advanced, actionFailed, closedKind)) {
		t.Fatalf("steps %v", got)
	}
	f := h.model.steps[1]
	if f.GetFromProcessId() != 32 || f.GetProcessId() != 33 || f.GetText() != "ContractResume: FailedPrecondition: contract C-000003 is terminated" {
		t.Fatalf("failure step %v", f)
	}
}

func TestARefusedActionWithoutAFailureProcessMarksTheTaskStuckAndARetryRunsItAgain(t *testing.T) {
	h := newActionHarness(t, Webhooks{})
	h.desk.answers = []error{status.Error(codes.FailedPrecondition, "contract C-000003 is suspended")}
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	var stuck Snapshot
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryState)
		if err == nil {
			_ = v.Get(&stuck)
		}
	}, time.Minute+10*time.Second)
	// before its own retry a minute after: a person retries it now
	retried := h.send(time.Minute+20*time.Second, UpdateRetry, Retry{Actor: manager})
	h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	h.run(h.input(actionRoute(&Action{Kind: taskv1.ActionKind_ACTION_KIND_CONTRACT, Operation: taskv1.ContractOperation_CONTRACT_OPERATION_SUSPEND})))

	if !stuck.Stuck || stuck.ProcessID != 32 || stuck.StuckError != "ContractSuspend: FailedPrecondition: contract C-000003 is suspended" {
		t.Fatalf("after the refusal: %+v", stuck)
	}
	if !retried.done || retried.failed != nil || len(h.desk.calls) != 2 {
		t.Fatalf("retry %+v, %d calls", retried, len(h.desk.calls))
	}
	if got := h.model.kinds(); !equal(got, kindsOf(advanced, actionFailed, advanced, closedKind)) {
		t.Fatalf("steps %v", got)
	}
	if f := h.model.steps[1]; f.GetProcessId() != 32 || f.GetFromProcessId() != 32 || !f.GetNotifySupervisors() {
		t.Fatalf("the failure step stays in the process and tells supervisors: %v", f)
	}
}

func TestAnActionThatFailsForNowIsRetriedAndShownWaiting(t *testing.T) {
	h := newActionHarness(t, Webhooks{})
	down := status.Error(codes.Unavailable, "contract service unreachable")
	h.desk.answers = []error{down, down, down}
	var during Snapshot
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryState)
		if err == nil {
			_ = v.Get(&during)
		}
	}, time.Minute+2*time.Second)
	h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	h.run(h.tariffInput(actionRoute(&Action{Kind: taskv1.ActionKind_ACTION_KIND_CONTRACT, Operation: taskv1.ContractOperation_CONTRACT_OPERATION_CHANGE_TARIFF})))

	if len(h.desk.calls) != 4 {
		t.Fatalf("%d calls, want three failures and a success", len(h.desk.calls))
	}
	if during.Action != ActivityContractChangeTariff || during.Stuck {
		t.Fatalf("while retrying: %+v", during)
	}
	if got := h.model.kinds(); !equal(got, kindsOf(advanced, advanced, closedKind)) {
		t.Fatalf("steps %v", got)
	}
}

func TestAWaitProcessIsADurableTimerThatMovesOnWhenItFires(t *testing.T) {
	h := newActionHarness(t, Webhooks{})
	var moved time.Time
	start := h.env.Now()
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	h.send(3*time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	h.run(h.input(actionRoute(&Action{Kind: taskv1.ActionKind_ACTION_KIND_WAIT, WaitSeconds: 2 * hour})))

	if got := h.model.kinds(); !equal(got, kindsOf(advanced, advanced, closedKind)) {
		t.Fatalf("steps %v", got)
	}
	moved = h.model.steps[1].GetTime().AsTime()
	if d := moved.Sub(start); d < 2*time.Hour+time.Minute || d > 2*time.Hour+time.Minute+time.Second {
		t.Fatalf("moved on after %v, want the wait of two hours", d)
	}
}

func TestACancelledTaskStopsItsWait(t *testing.T) {
	h := newActionHarness(t, Webhooks{})
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	cancel := h.send(time.Hour, UpdateCancel, Cancel{Actor: manager, Reason: "customer changed their mind"})
	res := h.run(h.input(actionRoute(&Action{Kind: taskv1.ActionKind_ACTION_KIND_WAIT, WaitSeconds: 48 * hour})))
	if !cancel.done || cancel.failed != nil || res.Outcome != taskv1.TaskState_TASK_STATE_CANCELLED {
		t.Fatalf("cancel %+v, result %+v", cancel, res)
	}
	if got := h.model.kinds(); !equal(got, kindsOf(advanced, taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED)) {
		t.Fatalf("steps %v", got)
	}
}

func TestANotifyGroupProcessTellsTheGroupOnce(t *testing.T) {
	h := newActionHarness(t, Webhooks{})
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	h.run(h.input(actionRoute(&Action{Kind: taskv1.ActionKind_ACTION_KIND_NOTIFY_GROUP, GroupID: installers, Message: "Bring a new router"})))

	if len(h.bell.notices) != 1 {
		t.Fatalf("%d notices", len(h.bell.notices))
	}
	n := h.bell.notices[0]
	if !equal(n.GetGroupIds(), []int64{installers}) || n.GetText() != "Bring a new router" || n.GetTaskId() != 7 || n.GetEventId() != "task-7/2.action" {
		t.Fatalf("notice %v", n)
	}
}

// receiver is a webhook endpoint that checks the signature, answering
// with the codes given in turn (then 204).
type receiver struct {
	mu     sync.Mutex
	key    []byte
	codes  []int
	bodies []WebhookEvent
	bad    int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	body, _ := io.ReadAll(req.Body)
	ts := req.Header.Get(HeaderTimestamp)
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || !hmac.Equal([]byte(req.Header.Get(HeaderSignature)), []byte(Sign(r.key, ts, body))) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var e WebhookEvent
	if err := json.Unmarshal(body, &e); err != nil || req.Header.Get(HeaderEventID) != e.ID {
		r.bad++
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.bodies = append(r.bodies, e)
	code := http.StatusNoContent
	if len(r.codes) > 0 {
		code, r.codes = r.codes[0], r.codes[1:]
	}
	w.WriteHeader(code)
}

func webhookRoute(url string) Route {
	return actionRoute(&Action{Kind: taskv1.ActionKind_ACTION_KIND_WEBHOOK, URL: url, OnFailure: taskv1.FailureRule_FAILURE_RULE_GO_TO_PROCESS, FailureProcessID: 33})
}

func TestAWebhookIsSignedAndA5xxIsRetried(t *testing.T) {
	key := []byte("webhook-test-key")
	rcv := &receiver{key: key, codes: []int{http.StatusBadGateway, http.StatusServiceUnavailable}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	h := newActionHarness(t, Webhooks{Key: key})
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	h.run(h.input(webhookRoute(srv.URL + "/hooks/crm")))

	if rcv.bad != 0 || len(rcv.bodies) != 3 {
		t.Fatalf("%d calls with a good signature, %d bad", len(rcv.bodies), rcv.bad)
	}
	if e := rcv.bodies[2]; e.TaskID != 7 || e.ProcessID != 32 || e.Process != "Billing change" || e.ID != rcv.bodies[0].ID {
		t.Fatalf("event %+v", e)
	}
	if got := h.model.kinds(); !equal(got, kindsOf(advanced, advanced, closedKind)) {
		t.Fatalf("steps %v", got)
	}
}

func TestAWebhookThatRefusesWith4xxIsNotRetriedAndTheTaskGoesToItsFailureProcess(t *testing.T) {
	key := []byte("webhook-test-key")
	rcv := &receiver{key: key, codes: []int{http.StatusUnprocessableEntity}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	h := newActionHarness(t, Webhooks{Key: key})
	h.send(time.Minute, UpdateAdvance, Advance{Actor: member, ProcessID: 31})
	h.send(time.Hour, UpdateAdvance, Advance{Actor: manager, ProcessID: 33})
	h.run(h.input(webhookRoute(srv.URL)))

	if len(rcv.bodies) != 1 {
		t.Fatalf("%d calls", len(rcv.bodies))
	}
	if got := h.model.kinds(); !equal(got, kindsOf(advanced, actionFailed, closedKind)) {
		t.Fatalf("steps %v", got)
	}
	if txt := h.model.steps[1].GetText(); txt != "CallWebhook: WebhookRefused: the webhook refused the call: 422 Unprocessable Entity" {
		t.Fatalf("failure text %q", txt)
	}
}

func TestAWebhookWithAWrongKeyIsRefusedByTheReceiver(t *testing.T) {
	rcv := &receiver{key: []byte("the receiver's key")}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	a := &Activities{Webhooks: Webhooks{Key: []byte("another key")}}
	err := a.CallWebhook(context.Background(), WebhookCall{URL: srv.URL, Event: WebhookEvent{ID: "task-1/2.action"}})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || rcv.bad != 1 {
		t.Fatalf("err %v, bad %d", err, rcv.bad)
	}
	if err := (&Activities{}).CallWebhook(context.Background(), WebhookCall{URL: srv.URL}); !errors.As(err, &app) || !app.NonRetryable() {
		t.Fatalf("without a signing key: %v", err)
	}
}
