package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

const (
	testToken     = "123456:test-token"
	testPublicURL = "https://crm.example.test"
)

// harness runs the notifier as production does (its store, its gRPC
// server, its connections to identity and task) against a fake Bot API and
// fake identity and task services. It can stop the notifier and start it
// again on the same store.
type harness struct {
	t        *testing.T
	api      *botapifake.Server
	identity *fakeIdentity
	tasks    *fakeTasks
	visits   *fakeVisits
	common   config.Common
	cfg      Config
	deps     Deps

	// recording makes start record the store's reading statements,
	// which taken returns.
	recording bool
	taken     func() []servicetest.Query

	mu     sync.Mutex
	svc    *Service
	client notifierv1.NotifierServiceClient
	stopFn func()
}

// fastConfig is the production configuration scaled down, so that
// retries and limits play out in milliseconds.
func fastConfig(apiURL string) Config {
	return Config{
		TelegramToken:        testToken,
		TelegramAPIURL:       apiURL,
		PublicURL:            testPublicURL,
		TelegramChatInterval: 20 * time.Millisecond,
		GroupChatInterval:    60 * time.Millisecond,
		TelegramRate:         1000,
		Workers:              8,
		BackoffBase:          5 * time.Millisecond,
		BackoffMax:           100 * time.Millisecond,
		SendTimeout:          3 * time.Second,
		PollTimeout:          time.Second,
		HandlerTimeout:       5 * time.Second,
		IdleWait:             100 * time.Millisecond,
	}
}

func newHarness(t *testing.T, tune ...func(*Config)) *harness {
	t.Helper()
	h := newStoppedHarness(t, tune...)
	h.start()
	return h
}

// newStoppedHarness is newHarness before start.
func newStoppedHarness(t *testing.T, tune ...func(*Config)) *harness {
	t.Helper()
	h := &harness{
		t:        t,
		api:      newFakeBotAPI(t, testToken),
		identity: &fakeIdentity{users: fixtureUsers(), codes: map[string]*linkCode{}},
		tasks:    &fakeTasks{tasks: fixtureTasks()},
		visits:   &fakeVisits{visits: map[int64]*taskv1.Visit{}},
		common:   servicetest.Common(t),
	}
	h.cfg = fastConfig(h.api.URL())
	for _, f := range tune {
		f(&h.cfg)
	}
	identityAddr := servicetest.Serve(t, func(s *grpcserver.Server) { identityv1.RegisterIdentityServiceServer(s, h.identity) })
	taskAddr := servicetest.Serve(t, func(s *grpcserver.Server) {
		taskv1.RegisterTaskServiceServer(s, h.tasks)
		taskv1.RegisterVisitServiceServer(s, h.visits)
	})
	fwd := auth.NewForwarder(auth.NewKeyring(servicetest.Key), Name)
	taskConn := h.dial(taskAddr, fwd)
	h.deps = Deps{
		Identity:  identityv1.NewIdentityServiceClient(h.dial(identityAddr, fwd)),
		Tasks:     taskv1.NewTaskServiceClient(taskConn),
		Visits:    taskv1.NewVisitServiceClient(taskConn),
		Forwarder: fwd,
		Log:       servicetest.Logger(),
	}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) dial(addr string, fwd *auth.Forwarder) *grpc.ClientConn {
	conn, err := grpcclient.Dialer{Forward: fwd}.Dial("a peer", addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	return conn
}

// start opens the store and runs the notifier: its gRPC server and its
// background work.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := OpenDB(ctx, h.common, servicetest.Logger())
	if err != nil {
		h.t.Fatalf("opening the notifier store: %v", err)
	}
	if h.recording {
		h.taken = servicetest.RecordQueries(h.t, db)
	}
	svc, err := NewService(db, h.cfg, h.deps)
	if err != nil {
		h.t.Fatal(err)
	}
	srv := servicetest.Server(servicetest.Logger())
	notifierv1.RegisterNotifierServiceServer(srv, svc.Server())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.ServeListener(ctx, lis) }()
	go func() {
		defer wg.Done()
		if err := svc.Run(ctx); err != nil {
			h.t.Errorf("the notifier stopped with an error: %v", err)
		}
	}()
	conn := servicetest.Dial(h.t, lis.Addr().String())
	h.mu.Lock()
	h.svc, h.client = svc, notifierv1.NewNotifierServiceClient(conn)
	h.stopFn = func() {
		cancel()
		wg.Wait()
		conn.Close()
		_ = database.Close(db)
	}
	h.mu.Unlock()
}

// stop stops the notifier (as a SIGTERM would) and closes its store.
func (h *harness) stop() {
	h.mu.Lock()
	stop := h.stopFn
	h.stopFn = nil
	h.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (h *harness) restart() {
	h.stop()
	h.start()
}

func (h *harness) service() *Service {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.svc
}

// enqueue hands a notice over as the task service does.
func (h *harness) enqueue(n *notifierv1.TaskNotice) int32 {
	h.t.Helper()
	h.mu.Lock()
	client := h.client
	h.mu.Unlock()
	resp, err := client.EnqueueTaskEvent(servicetest.Service(context.Background(), "task"), &notifierv1.EnqueueTaskEventRequest{Notice: n})
	if err != nil {
		h.t.Fatalf("EnqueueTaskEvent(%s): %v", n.GetEventId(), err)
	}
	return resp.GetQueued()
}

func (h *harness) stats() Stats {
	h.t.Helper()
	st, err := h.service().Stats(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// settled waits until nothing waits in the queue.
func (h *harness) settled() Stats {
	h.t.Helper()
	var st Stats
	eventually(h.t, 15*time.Second, func() bool {
		st = h.stats()
		return st.QueueDepth() == 0
	}, "the queue drains")
	return st
}

// press presses a button under msg in chatID and waits for the answer.
func (h *harness) press(chatID int64, msg botapifake.Message, data string) botapifake.CallbackAnswer {
	h.t.Helper()
	id := h.api.Push(botapifake.Callback(chatID, msg, data))
	var a botapifake.CallbackAnswer
	eventually(h.t, 10*time.Second, func() bool {
		var ok bool
		a, ok = h.api.Answer(fmt.Sprintf("cb%d", id))
		return ok
	}, "the button press is answered")
	return a
}

// say writes text in chatID (a reply to replyTo when not 0) and waits for
// the bot's next message there.
func (h *harness) say(chatID int64, language, text string, replyTo int) botapifake.Message {
	h.t.Helper()
	before := len(h.api.SentTo(chatID))
	h.api.Push(botapifake.Text(chatID, language, text, replyTo))
	var got botapifake.Message
	eventually(h.t, 10*time.Second, func() bool {
		sent := h.api.SentTo(chatID)
		if len(sent) > before {
			got = sent[before]
			return true
		}
		return false
	}, "the bot answers "+text)
	return got
}

// eventually polls cond until it holds or the time is up.
func eventually(t testing.TB, within time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// notice builds a task notice about task 40.
func notice(eventID string, kind taskv1.TaskEventKind, actor int64, groups ...int64) *notifierv1.TaskNotice {
	return &notifierv1.TaskNotice{
		EventId: eventID, Kind: kind, Time: timestamppb.Now(),
		TaskId: 40, TaskNumber: "T-000040", TaskTitle: "No internet at home",
		TaskKind: taskv1.TaskKind_TASK_KIND_SERVICE, TaskState: taskv1.TaskState_TASK_STATE_OPEN,
		CustomerId: 3, CustomerName: "Ivan Petrov", ContractId: 7, ContractNumber: "C-000007",
		RouteId: 2, RouteName: "Repair", ProcessName: "Diagnostics", ProcessId: 101,
		CurrentGroupId: groupInstallers, GroupIds: groups, ActorId: actor, ActorName: "Someone",
	}
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// textsTo are the texts of the messages a chat got.
func textsTo(msgs []botapifake.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

// countWith counts the messages holding s.
func countWith(msgs []botapifake.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

// newFakeBotAPI starts a fake Bot API for the test, closed when it ends.
func newFakeBotAPI(t testing.TB, token string) *botapifake.Server {
	t.Helper()
	api, err := botapifake.New(token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	return api
}

// comeBack ends the fake Bot API's outage.
func (h *harness) comeBack() {
	h.t.Helper()
	if err := h.api.ComeBack(); err != nil {
		h.t.Fatal(err)
	}
}

// urlPath is the path of a URL, for webhook checks.
func urlPath(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Path
}
