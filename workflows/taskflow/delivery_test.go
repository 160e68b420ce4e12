package taskflow

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// deliveryLog is the task service's side of deliveries: the outcomes
// written.
type deliveryLog struct {
	taskv1.WebhookServiceClient
	mu   sync.Mutex
	recs []*taskv1.RecordWebhookDeliveryRequest
}

func (l *deliveryLog) RecordWebhookDelivery(_ context.Context, r *taskv1.RecordWebhookDeliveryRequest, _ ...grpc.CallOption) (*taskv1.RecordWebhookDeliveryResponse, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	return &taskv1.RecordWebhookDeliveryResponse{}, nil
}

// hookReceiver checks each call's signature with the subscription's
// secret and answers with the codes given in turn (then 204), noting the
// workflow time of each call.
type hookReceiver struct {
	mu     sync.Mutex
	secret string
	codes  []int
	calls  int
	good   int
	ids    map[string]bool
	bodies []json.RawMessage
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	body, _ := io.ReadAll(req.Body)
	ts := req.Header.Get(HeaderTimestamp)
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || !hmac.Equal([]byte(req.Header.Get(HeaderSignature)), []byte(Sign([]byte(r.secret), ts, body))) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.good++
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	r.ids[req.Header.Get(HeaderEventID)] = true
	r.bodies = append(r.bodies, body)
	code := http.StatusNoContent
	if len(r.codes) > 0 {
		code, r.codes = r.codes[0], r.codes[1:]
	}
	w.WriteHeader(code)
}

var hookKey = []byte("internal-test-key")

// deliver runs a delivery to the receiver with time skipping and answers
// the outcome written and how long the delivery took in workflow time.
func deliver(t *testing.T, rcv *hookReceiver, attempts int32) (*taskv1.RecordWebhookDeliveryRequest, time.Duration) {
	t.Helper()
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	log := &deliveryLog{}
	env.RegisterWorkflowWithOptions(DeliveryWorkflow, workflow.RegisterOptions{Name: DeliveryWorkflowName})
	env.RegisterActivity(&Activities{Subscriptions: Subscriptions{InternalKey: hookKey, Log: log}})
	start := env.Now()
	env.ExecuteWorkflow(DeliveryWorkflowName, Delivery{
		WebhookID: 4, Salt: "s4", URL: srv.URL + "/crm", EventID: "task-12/3",
		Body: json.RawMessage(`{"id":"task-12/3","type":"task.closed"}`), Attempts: attempts,
	})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("the delivery did not finish: %v", env.GetWorkflowError())
	}
	if len(log.recs) != 1 {
		t.Fatalf("%d outcomes written, want 1", len(log.recs))
	}
	return log.recs[0], env.Now().Sub(start)
}

func TestADeliveryOutlastsFiveMinutesOfTheReceiverBeingDown(t *testing.T) {
	// down for the first seven attempts: 5+10+20+40+80+160 s of waits
	// between them, over five minutes
	down := make([]int, 7)
	for i := range down {
		down[i] = http.StatusServiceUnavailable
	}
	rcv := &hookReceiver{secret: WebhookSecret(hookKey, 4, "s4"), codes: down}
	rec, took := deliver(t, rcv, 0)
	if !rec.GetDelivered() || rec.GetAttempts() != 8 || rec.GetStatusCode() != http.StatusNoContent || rec.GetError() != "" {
		t.Fatalf("outcome %v", rec)
	}
	if took < 5*time.Minute {
		t.Fatalf("the receiver was down for %v of workflow time, want over five minutes", took)
	}
	if rcv.good != 8 || len(rcv.ids) != 1 || !rcv.ids["task-12/3"] || string(rcv.bodies[7]) != `{"id":"task-12/3","type":"task.closed"}` {
		t.Fatalf("%d signed calls of %d, event ids %v", rcv.good, rcv.calls, rcv.ids)
	}
	if rec.GetWebhookId() != 4 || rec.GetEventId() != "task-12/3" || rec.GetTime() == nil {
		t.Fatalf("outcome names %v", rec)
	}
}

func TestARefusedDeliveryIsNotRetried(t *testing.T) {
	rcv := &hookReceiver{secret: WebhookSecret(hookKey, 4, "s4"), codes: []int{http.StatusGone}}
	rec, _ := deliver(t, rcv, 0)
	if rec.GetDelivered() || rec.GetAttempts() != 1 || rec.GetStatusCode() != http.StatusGone || rec.GetError() == "" || rcv.calls != 1 {
		t.Fatalf("outcome %v after %d calls", rec, rcv.calls)
	}
}

func TestADeliveryGivesUpAfterItsAttempts(t *testing.T) {
	rcv := &hookReceiver{secret: WebhookSecret(hookKey, 4, "s4"), codes: []int{502, 502, 502, 502}}
	rec, _ := deliver(t, rcv, 3)
	if rec.GetDelivered() || rec.GetAttempts() != 3 || rec.GetStatusCode() != http.StatusBadGateway || rcv.calls != 3 {
		t.Fatalf("outcome %v after %d calls", rec, rcv.calls)
	}
}

func TestAReceiverWithAnotherSubscriptionsSecretRefuses(t *testing.T) {
	rcv := &hookReceiver{secret: WebhookSecret(hookKey, 5, "s4")}
	rec, _ := deliver(t, rcv, 0)
	if rec.GetDelivered() || rec.GetStatusCode() != http.StatusUnauthorized || rcv.good != 0 {
		t.Fatalf("outcome %v", rec)
	}
	if WebhookSecret(hookKey, 4, "s4") == WebhookSecret(hookKey, 4, "s5") || WebhookSecret(hookKey, 4, "s4") == WebhookSecret([]byte("other"), 4, "s4") {
		t.Fatal("secrets do not depend on the salt and the key")
	}
}
