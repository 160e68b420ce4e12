package task

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

var (
	onCreated = taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_CREATED
	onEntered = taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_PROCESS_ENTERED
	onClosed  = taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_TASK_CLOSED
	onStatus  = taskv1.WebhookEventKind_WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED
)

func (f *fixture) subscribe(t *testing.T, name string, kinds ...taskv1.WebhookEventKind) *taskv1.CreateWebhookResponse {
	t.Helper()
	resp, err := f.hooks.CreateWebhook(admin(), &taskv1.CreateWebhookRequest{Webhook: &taskv1.Webhook{Name: name, Url: "http://127.0.0.1:9/" + name, EventKinds: kinds}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestWebhookSubscriptionsAreChecked(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		hook *taskv1.Webhook
		want string
	}{
		{"no name", &taskv1.Webhook{Name: " ", Url: "https://example.com/h", EventKinds: []taskv1.WebhookEventKind{onClosed}}, "name"},
		{"not http", &taskv1.Webhook{Name: "a", Url: "ftp://example.com/h", EventKinds: []taskv1.WebhookEventKind{onClosed}}, "not an http or https"},
		{"no events", &taskv1.Webhook{Name: "a", Url: "https://example.com/h"}, "eventKinds"},
		{"unknown event", &taskv1.Webhook{Name: "a", Url: "https://example.com/h", EventKinds: []taskv1.WebhookEventKind{9}}, "eventKinds"},
		{"a NUL", &taskv1.Webhook{Name: "a\x00b", Url: "https://example.com/h", EventKinds: []taskv1.WebhookEventKind{onClosed}}, "control character"},
		{"too long", &taskv1.Webhook{Name: "a", Url: "https://example.com/" + strings.Repeat("x", 2000), EventKinds: []taskv1.WebhookEventKind{onClosed}}, "2000"},
	} {
		_, err := f.hooks.CreateWebhook(admin(), &taskv1.CreateWebhookRequest{Webhook: tc.hook})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want 400 naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := f.hooks.CreateWebhook(operator(), &taskv1.CreateWebhookRequest{Webhook: &taskv1.Webhook{Name: "a", Url: "https://example.com/h", EventKinds: []taskv1.WebhookEventKind{onClosed}}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an operator subscribed: %v", err)
	}
	list, err := f.hooks.ListWebhooks(admin(), &taskv1.ListWebhooksRequest{})
	if err != nil || len(list.GetWebhooks()) != 0 {
		t.Fatalf("after refusals: %v, %v", list, err)
	}

	// production refuses the operator's own network, as typed or as resolved
	strict := &WebhookServer{tasks: f.server, db: f.server.store.db, hooks: &hooks{db: f.server.store.db, clock: f.server.store.clock}, key: servicetest.Key}
	for _, url := range []string{"http://127.0.0.1:8080/h", "http://10.0.0.5/h", "http://169.254.169.254/latest", "http://localhost/h"} {
		_, err := strict.CreateWebhook(admin(), &taskv1.CreateWebhookRequest{Webhook: &taskv1.Webhook{Name: "a", Url: url, EventKinds: []taskv1.WebhookEventKind{onClosed}}})
		if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "not on the internet") && !strings.Contains(err.Error(), "this machine") {
			t.Errorf("%s in production: %v", url, err)
		}
	}
}

func TestATasksStepsReachTheSubscriptionsThatWantThem(t *testing.T) {
	f := newFixture(t)
	all := f.subscribe(t, "all", onCreated, onEntered, onClosed)
	onlyClosed := f.subscribe(t, "closed", onClosed)
	if prefix := strings.TrimSuffix(all.GetWebhook().GetSecretPrefix(), "…"); !strings.HasPrefix(all.GetSecret(), "whsec_") || len(prefix) != 12 || !strings.HasPrefix(all.GetSecret(), prefix) {
		t.Fatalf("secret %q, prefix %q", all.GetSecret(), all.GetWebhook().GetSecretPrefix())
	}

	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal"})
	if err != nil {
		t.Fatal(err)
	}
	task := made.GetTask()
	first := task.GetCurrentProcess().GetId()
	s := step(task.GetId(), 2, taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, first, 0, "a note")
	if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: s}); err != nil {
		t.Fatal(err)
	}
	done := step(task.GetId(), 3, taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, 0, first, "")
	done.State, done.CloseReason = taskv1.TaskState_TASK_STATE_CLOSED, "all processes completed"
	for range 2 { // a retried step is one event
		if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: done}); err != nil {
			t.Fatal(err)
		}
	}

	createdID, closedID := "task-"+strconv.FormatInt(task.GetId(), 10)+"/1", "task-"+strconv.FormatInt(task.GetId(), 10)+"/3"
	want := []string{
		taskflow.DeliveryWorkflowID(all.GetWebhook().GetId(), createdID),
		taskflow.DeliveryWorkflowID(all.GetWebhook().GetId(), closedID),
		taskflow.DeliveryWorkflowID(onlyClosed.GetWebhook().GetId(), closedID),
	}
	waitFor(t, func() bool { return len(f.flows.started()) >= len(want) })
	started := f.flows.started()
	if len(started) != len(want) {
		t.Fatalf("deliveries started %v, want %v", slices.Collect(maps.Keys(started)), want)
	}
	for _, id := range want {
		if _, ok := started[id]; !ok {
			t.Fatalf("no delivery %s among %v", id, slices.Collect(maps.Keys(started)))
		}
	}
	d := started[want[0]]
	if got := taskflow.WebhookSecret(servicetest.Key, d.WebhookID, d.Salt); got != all.GetSecret() {
		t.Fatal("the delivery is signed with another secret than the one shown")
	}
	var body struct {
		ID, Type string
		Task     struct {
			ID                   int64
			Number, State, Route string
			Process              string
			GroupID              int64
			ContractID           int64
			Priority             string
		}
	}
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ID != createdID || body.Type != "task.created" || body.Task.ID != task.GetId() || body.Task.Number != task.GetNumber() ||
		body.Task.State != "open" || body.Task.Process != task.GetCurrentProcess().GetName() || body.Task.GroupID == 0 ||
		body.Task.ContractID != activeContract || body.Task.Priority != "normal" {
		t.Fatalf("body %s", d.Body)
	}
	body.Task.Process = ""
	if err := json.Unmarshal(started[want[1]].Body, &body); err != nil || body.Type != "task.closed" || body.Task.State != "closed" || body.Task.Process != "" {
		t.Fatalf("closed body %s, %v", started[want[1]].Body, err)
	}

	log, err := f.hooks.ListWebhookDeliveries(admin(), &taskv1.ListWebhookDeliveriesRequest{WebhookId: all.GetWebhook().GetId()})
	if err != nil || len(log.GetDeliveries()) != 2 || log.GetDeliveries()[0].GetEventId() != closedID ||
		log.GetDeliveries()[0].GetState() != taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_PENDING {
		t.Fatalf("log %v, %v", log, err)
	}
	var queued int64
	if err := f.server.store.db.Model(&hookEventRow{}).Count(&queued).Error; err != nil || queued != 0 {
		t.Fatalf("%d events left in the outbox, %v", queued, err)
	}
}

func TestDeliveriesFailingInARowSwitchASubscriptionOff(t *testing.T) {
	f := newFixture(t)
	hook := f.subscribe(t, "billing", onStatus).GetWebhook()
	publish := func(n int) string {
		id := "contract-10/active/" + strconv.Itoa(n)
		if _, err := f.hooks.PublishWebhookEvent(worker(), &taskv1.PublishWebhookEventRequest{
			EventId: id, Kind: onStatus, Time: timestamppb.Now(), ContractId: 10, ContractNumber: "C-000010", Status: "CONTRACT_STATUS_ACTIVE",
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { _, ok := f.flows.started()[taskflow.DeliveryWorkflowID(hook.GetId(), id)]; return ok })
		return id
	}
	record := func(id string, delivered bool) {
		rec := &taskv1.RecordWebhookDeliveryRequest{WebhookId: hook.GetId(), EventId: id, Delivered: delivered, Attempts: 20, StatusCode: 503, Error: "the webhook answered 503", Time: timestamppb.Now()}
		if delivered {
			rec.Attempts, rec.StatusCode, rec.Error = 2, 204, ""
		}
		if _, err := f.hooks.RecordWebhookDelivery(worker(), rec); err != nil {
			t.Fatal(err)
		}
	}
	get := func() *taskv1.Webhook {
		list, err := f.hooks.ListWebhooks(admin(), &taskv1.ListWebhooksRequest{})
		if err != nil || len(list.GetWebhooks()) != 1 {
			t.Fatalf("%v, %v", list, err)
		}
		return list.GetWebhooks()[0]
	}
	if _, err := f.hooks.PublishWebhookEvent(operator(), &taskv1.PublishWebhookEventRequest{EventId: "x", Kind: onStatus}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a person published an event: %v", err)
	}

	a, b := publish(1), publish(2)
	record(a, false)
	record(a, false) // the same outcome again counts once
	record(b, true)
	if h := get(); h.GetFailures() != 0 || !h.GetEnabled() || h.GetLastDeliveryTime() == nil {
		t.Fatalf("after a delivery that went through: %v", h)
	}
	for i := 3; i <= 5; i++ {
		record(publish(i), false)
	}
	h := get()
	if h.GetEnabled() || h.GetFailures() != 3 || !strings.Contains(h.GetDisabledReason(), "503") {
		t.Fatalf("after three failures in a row: %v", h)
	}
	// the supervisors are told, once however often the outcome is written
	last := "contract-10/active/5"
	record(last, false)
	told := func() []*notifierv1.TaskNotice {
		f.notifier.mu.Lock()
		defer f.notifier.mu.Unlock()
		var out []*notifierv1.TaskNotice
		for _, n := range f.notifier.notices {
			if n.GetWebhookDisabled() != nil {
				out = append(out, n)
			}
		}
		return out
	}
	notices := told()
	if len(notices) != 2 || notices[0].GetEventId() != notices[1].GetEventId() || !notices[0].GetIncludeSupervisors() ||
		notices[0].GetWebhookDisabled().GetName() != "billing" || notices[0].GetWebhookDisabled().GetFailures() != 3 {
		t.Fatalf("notices of the switch-off %v", notices)
	}
	failed, err := f.hooks.ListWebhookDeliveries(admin(), &taskv1.ListWebhookDeliveriesRequest{WebhookId: hook.GetId(), State: taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED, PageSize: 2})
	if err != nil || len(failed.GetDeliveries()) != 2 || failed.GetNextPageToken() == "" || failed.GetDeliveries()[0].GetAttempts() != 20 {
		t.Fatalf("failed deliveries: %v, %v", failed, err)
	}
	rest, err := f.hooks.ListWebhookDeliveries(admin(), &taskv1.ListWebhookDeliveriesRequest{WebhookId: hook.GetId(), State: taskv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_FAILED, PageSize: 2, PageToken: failed.GetNextPageToken()})
	if err != nil || len(rest.GetDeliveries()) != 2 || rest.GetNextPageToken() != "" {
		t.Fatalf("the second page: %v, %v", rest, err)
	}

	// switched off, it is handed nothing; switched on, its count starts again
	before := len(f.flows.started())
	if _, err := f.hooks.PublishWebhookEvent(worker(), &taskv1.PublishWebhookEventRequest{EventId: "contract-10/suspended/1", Kind: onStatus, ContractId: 10}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		var n int64
		return f.server.store.db.Model(&hookEventRow{}).Count(&n).Error == nil && n == 0
	})
	if len(f.flows.started()) != before {
		t.Fatal("a switched-off subscription was handed an event")
	}
	on, err := f.hooks.UpdateWebhook(admin(), &taskv1.UpdateWebhookRequest{Id: hook.GetId(), Webhook: &taskv1.Webhook{Name: "billing", Url: hook.GetUrl(), EventKinds: hook.GetEventKinds(), Enabled: true}})
	if err != nil || !on.GetWebhook().GetEnabled() || on.GetWebhook().GetFailures() != 0 || on.GetWebhook().GetDisabledReason() != "" {
		t.Fatalf("switched on: %v, %v", on, err)
	}
	if _, err := f.hooks.DeleteWebhook(admin(), &taskv1.DeleteWebhookRequest{Id: hook.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.hooks.ListWebhookDeliveries(admin(), &taskv1.ListWebhookDeliveriesRequest{WebhookId: hook.GetId()}); status.Code(err) != codes.NotFound {
		t.Fatalf("the log of a removed subscription: %v", err)
	}
}

func TestAnEventIsHandedOverAgainWhenTemporalWasAway(t *testing.T) {
	f := newFixture(t)
	f.flows.mu.Lock()
	f.flows.failDeliver = status.Error(codes.Unavailable, "temporal is away")
	f.flows.mu.Unlock()
	hook := f.subscribe(t, "dwh", onStatus).GetWebhook()
	if _, err := f.hooks.PublishWebhookEvent(worker(), &taskv1.PublishWebhookEventRequest{EventId: "contract-10/active/7", Kind: onStatus, ContractId: 10}); err != nil {
		t.Fatal(err)
	}
	f.server.hooks.kick()
	var queued int64
	if err := f.server.store.db.Model(&hookEventRow{}).Count(&queued).Error; err != nil || queued != 1 {
		t.Fatalf("the event left the outbox while Temporal was away: %d, %v", queued, err)
	}
	f.flows.mu.Lock()
	f.flows.failDeliver = nil
	f.flows.mu.Unlock()
	f.server.hooks.kick()
	waitFor(t, func() bool {
		_, ok := f.flows.started()[taskflow.DeliveryWorkflowID(hook.GetId(), "contract-10/active/7")]
		return ok
	})
}
