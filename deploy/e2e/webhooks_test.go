package e2e

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/telecomcrm/crm/workflows/taskflow"
)

// hookReceiver is another system's webhook endpoint on a fixed address: it
// checks each call's signature with the subscription's secret, keeps each
// event once by its id, and can go away (connections refused) and come back.
type hookReceiver struct {
	t      *testing.T
	addr   string
	secret string
	mu     sync.Mutex
	srv    *http.Server
	events map[string]json.RawMessage
	calls  int
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t, addr: "127.0.0.1:0", events: map[string]json.RawMessage{}}
	r.up()
	t.Cleanup(r.down)
	return r
}

func (r *hookReceiver) up() {
	r.t.Helper()
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = l.Addr().String()
	r.mu.Lock()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	srv := r.srv
	r.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.t.Error(err)
		}
	}()
}

func (r *hookReceiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	ts := req.Header.Get(taskflow.HeaderTimestamp)
	if !hmac.Equal([]byte(req.Header.Get(taskflow.HeaderSignature)), []byte(taskflow.Sign([]byte(r.secret), ts, body))) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var e struct{ ID string }
	if json.Unmarshal(body, &e) != nil || e.ID != req.Header.Get(taskflow.HeaderEventID) {
		r.bad++
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.events[e.ID] = body
	w.WriteHeader(http.StatusNoContent)
}

// types counts the events received by type.
func (r *hookReceiver) types() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, b := range r.events {
		var e struct{ Type string }
		_ = json.Unmarshal(b, &e)
		out[e.Type]++
	}
	return out
}

// TestAWebhookHearsAConnectionsWholeLifeThroughItsReceiversOutage: a
// subscription to every event gets each event of a connection, from the
// contract's opening to its activation, signed, once each — the receiver
// being down for a while in the middle (CRM_E2E_WEBHOOK_DOWNTIME: 20 s by
// default, 5m for the outage the retries are made to outlast).
func TestAWebhookHearsAConnectionsWholeLifeThroughItsReceiversOutage(t *testing.T) {
	t.Parallel()
	downtime := 20 * time.Second
	if v := os.Getenv("CRM_E2E_WEBHOOK_DOWNTIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		downtime = d
	}
	w := newWorld(t)
	rcv := newHookReceiver(t)
	var made struct {
		Webhook struct{ ID string }
		Secret  string
	}
	w.admin.Must(http.MethodPost, "/api/v1/webhooks", map[string]any{
		"name": "Billing", "url": "http://" + rcv.addr + "/crm",
		"eventKinds": []string{"WEBHOOK_EVENT_KIND_TASK_CREATED", "WEBHOOK_EVENT_KIND_TASK_PROCESS_ENTERED", "WEBHOOK_EVENT_KIND_TASK_CLOSED", "WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED"},
	}, &made)
	rcv.mu.Lock()
	rcv.secret = made.Secret
	rcv.mu.Unlock()

	within := func(d time.Duration, what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("no %s after %v: received %v", what, d, rcv.types())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	contractID, tk := w.contract()
	within(30*time.Second, "task.created", func() bool { return rcv.types()["task.created"] == 1 })

	steps := len(tk.Processes) - 1 // moves between processes; the last completion closes it
	half := steps / 2
	advance := func() {
		t.Helper()
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &tk)
	}
	for range half {
		advance()
	}
	within(30*time.Second, "the first moves", func() bool { return rcv.types()["task.process_entered"] == half })

	rcv.down()
	for tk.State == "TASK_STATE_OPEN" {
		advance()
	}
	w.waitContract(contractID, "CONTRACT_STATUS_ACTIVE")
	time.Sleep(downtime)
	if got := rcv.types(); got["task.closed"] != 0 {
		t.Fatalf("received %v while down", got)
	}
	rcv.up()

	// the retries wait up to five minutes between attempts
	within(downtime+6*time.Minute, "every event after the outage", func() bool {
		got := rcv.types()
		return got["task.process_entered"] == steps && got["task.closed"] == 1 && got["contract.status_changed"] == 1
	})
	rcv.mu.Lock()
	bad, calls, events := rcv.bad, rcv.calls, len(rcv.events)
	rcv.mu.Unlock()
	if bad != 0 || events != steps+3 {
		t.Fatalf("%d calls, %d refused, %d events, want %d", calls, bad, events, steps+3)
	}

	var log struct {
		Deliveries []struct {
			EventID  string `json:"eventId"`
			State    string `json:"state"`
			Attempts int    `json:"attempts"`
		} `json:"deliveries"`
	}
	within(30*time.Second, "a delivery log of delivered events", func() bool {
		w.admin.Must(http.MethodGet, "/api/v1/webhooks/"+made.Webhook.ID+"/deliveries", nil, &log)
		if len(log.Deliveries) != steps+3 {
			return false
		}
		for _, d := range log.Deliveries {
			if d.State != "WEBHOOK_DELIVERY_STATE_DELIVERED" {
				return false
			}
		}
		return true
	})
	retried := 0
	for _, d := range log.Deliveries {
		if d.Attempts > 1 {
			retried++
		}
	}
	if retried < steps-half {
		t.Fatalf("%d deliveries needed more than one attempt, want the %d made while the receiver was down: %+v", retried, steps-half+2, log.Deliveries)
	}
	t.Logf("%d events delivered in %d calls; %d of them retried through %v of downtime", events, calls, retried, downtime)
}
