package notifier

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

// fakeContracts lists customer 3's contracts.
type fakeContracts struct {
	contractv1.UnimplementedContractServiceServer
	mu        sync.Mutex
	contracts []*contractv1.Contract
}

func (f *fakeContracts) set(cs ...*contractv1.Contract) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.contracts = cs
}

func (f *fakeContracts) ListContracts(_ context.Context, req *contractv1.ListContractsRequest) (*contractv1.ListContractsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &contractv1.ListContractsResponse{}
	for _, c := range f.contracts {
		if c.GetCustomerId() == req.GetCustomerId() {
			out.Contracts = append(out.Contracts, proto.Clone(c).(*contractv1.Contract))
		}
	}
	return out, nil
}

func (f *fakeTasks) CreateTask(ctx context.Context, req *taskv1.CreateTaskRequest) (*taskv1.CreateTaskResponse, error) {
	p, _ := auth.From(ctx)
	if p == nil || !p.IsService() {
		return nil, fault.New(fault.PermissionDenied, "the notifier opens requests as itself")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, taskCall{Method: "CreateTask", ProcessID: req.GetRouteId(), TaskID: req.GetContractId(), Text: req.GetTitle() + "|" + req.GetDescription(), Caller: *p})
	return &taskv1.CreateTaskResponse{Task: &taskv1.Task{Id: 60, Number: "T-000060", Title: req.GetTitle(), ContractId: req.GetContractId()}}, nil
}

func active(id int64, number string) *contractv1.Contract {
	return &contractv1.Contract{Id: id, Number: number, CustomerId: 3, Address: "Tverskaya 1", Status: contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE}
}

// requestHarness is the customer harness with contracts, Ivan's chat
// linked.
func requestHarness(t *testing.T) (*harness, *fakeContracts) {
	t.Helper()
	h := newStoppedHarness(t)
	fc := &fakeContracts{}
	addr := servicetest.Serve(t, func(s *grpcserver.Server) { contractv1.RegisterContractServiceServer(s, fc) })
	h.deps.Contracts = contractv1.NewContractServiceClient(h.dial(addr, h.deps.Forwarder))
	h.cfg.OfficePhone = "+7 495 000-00-00"
	h.start()
	if err := h.service().store.linkCustomer(context.Background(), &customerChatRow{CustomerID: 3, ChatID: ivanChat, Phone: "+" + ivanMobile, Language: "ru"}); err != nil {
		t.Fatal(err)
	}
	return h, fc
}

func (f *fakeTasks) creates() []taskCall {
	var out []taskCall
	for _, c := range f.done() {
		if c.Method == "CreateTask" {
			out = append(out, c)
		}
	}
	return out
}

// lastEdit waits for an edit of a message and returns the newest.
func lastEdit(t *testing.T, h *harness, msg botapifake.Message, n int) botapifake.MarkupEdit {
	t.Helper()
	eventually(t, 5*time.Second, func() bool { return len(h.api.EditsOf(ivanChat, msg.MessageID)) >= n }, "the message is edited")
	e := h.api.EditsOf(ivanChat, msg.MessageID)
	return e[len(e)-1]
}

func TestACustomersMessageOpensAServiceTaskOfTheKindTheyChoose(t *testing.T) {
	h, fc := requestHarness(t)
	fc.set(active(7, "C-000007"))
	q := h.say(ivanChat, "ru", "Нет интернета с утра, роутер мигает красным", 0)
	if q.Text != "О чём заявка? Выберите:" || !strings.Contains(q.Markup, "Нет интернета") || !strings.Contains(q.Markup, "Приостановить обслуживание") {
		t.Fatalf("the bot asked %q %s", q.Text, q.Markup)
	}
	if len(h.tasks.creates()) != 0 {
		t.Fatal("a task was opened before the kind was chosen")
	}
	data := buttonData(t, q, "Нет интернета")
	h.press(ivanChat, q, data)
	e := lastEdit(t, h, q, 1)
	if e.Text != "Ваша заявка T-000060 открыта: Нет интернета, договор C-000007. Мы сообщим, как она продвигается." {
		t.Fatalf("the answer %q", e.Text)
	}
	c := h.tasks.creates()
	if len(c) != 1 || c[0].TaskID != 7 || c[0].ProcessID != 2 || c[0].Text != "Нет интернета|Нет интернета с утра, роутер мигает красным" || c[0].Caller.Service != Name {
		t.Fatalf("CreateTask calls %+v; want the Repair route on contract 7 with the customer's words, as the notifier", c)
	}
	if a := h.press(ivanChat, q, data); a.Text != "Эта заявка уже открыта." {
		t.Fatalf("a second press answered %q", a.Text)
	}
	if a := h.press(ivanChat, q, requestData(999, 7, 1)); a.Text != "Эта заявка устарела; напишите мне снова." {
		t.Fatalf("a forged request answered %q", a.Text)
	}
	if len(h.tasks.creates()) != 1 {
		t.Fatal("a task was opened twice")
	}
}

func TestACustomerWithTwoContractsChoosesOneAndOneWithNoneIsSentToTheOffice(t *testing.T) {
	h, fc := requestHarness(t)
	fc.set(active(7, "C-000007"), active(8, "C-000008"), &contractv1.Contract{Id: 9, Number: "C-000009", CustomerId: 3, Status: contractv1.ContractStatus_CONTRACT_STATUS_TERMINATED})
	q := h.say(ivanChat, "ru", "хочу приостановить", 0)
	if q.Text != "По какому договору заявка?" || !strings.Contains(q.Markup, "C-000008 · Tverskaya 1") || strings.Contains(q.Markup, "C-000009") {
		t.Fatalf("the bot asked %q %s", q.Text, q.Markup)
	}
	h.press(ivanChat, q, buttonData(t, q, "C-000008"))
	e := lastEdit(t, h, q, 1)
	if e.Text != "О чём заявка? Выберите:" || !strings.Contains(e.Markup, ":8:") {
		t.Fatalf("after the contract: %q %s", e.Text, e.Markup)
	}
	h.press(ivanChat, botapifake.Message{MessageID: q.MessageID, Markup: e.Markup, Text: e.Text}, requestDataFrom(t, e.Markup, "Приостановить"))
	lastEdit(t, h, q, 2)
	if c := h.tasks.creates(); len(c) != 1 || c[0].TaskID != 8 || c[0].ProcessID != 4 {
		t.Fatalf("CreateTask calls %+v; want Suspension on contract 8", c)
	}

	fc.set()
	got := h.say(ivanChat, "ru", "нет интернета", 0)
	if got.Text != "У вас нет действующего договора, поэтому заявку открыть нельзя. Позвоните, пожалуйста, в наш офис: +7 495 000-00-00." || got.HasButtons() {
		t.Fatalf("a customer with no contract in service got %q", got.Text)
	}
	// a stranger's chat is offered the link, not a request
	if got := h.say(4242, "ru", "нет интернета", 0); !strings.Contains(got.Text, "поделитесь номером") {
		t.Fatalf("a stranger got %q", got.Text)
	}
	if len(h.tasks.creates()) != 1 {
		t.Fatal("a task was opened without a contract in service")
	}
}

func buttonData(t *testing.T, m botapifake.Message, label string) string {
	t.Helper()
	return requestDataFrom(t, m.Markup, label)
}

func requestDataFrom(t *testing.T, markup, label string) string {
	t.Helper()
	kb, err := decodeMarkup(markup)
	if err != nil || kb == nil {
		t.Fatalf("keyboard %q: %v", markup, err)
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if strings.Contains(b.Text, label) {
				return b.Data
			}
		}
	}
	t.Fatalf("no button %q in %s", label, markup)
	return ""
}

func TestRequestDataIsReadOnlyAsWritten(t *testing.T) {
	const maxID = int64(^uint64(0) >> 1)
	d := requestData(maxID, maxID, maxID)
	if len(d) > 64 {
		t.Fatalf("%q is %d bytes, over Telegram's 64", d, len(d))
	}
	if r, c, k, ok := parseRequestData(d); !ok || r != maxID || c != maxID || k != maxID {
		t.Fatalf("parseRequestData(%q) = %d %d %d %v", d, r, c, k, ok)
	}
	for _, bad := range []string{"r:0:1:1", "r:1:2", "r:+1:2:3", "r:01:2:3", "r:1:-2:3", "t:1:2:3", "r:1:2:3:4"} {
		if _, _, _, ok := parseRequestData(bad); ok {
			t.Errorf("parseRequestData(%q) accepted", bad)
		}
	}
}

func (f *fakeTasks) GetRoute(_ context.Context, req *taskv1.GetRouteRequest) (*taskv1.GetRouteResponse, error) {
	switch req.GetId() {
	case 1, 2, 4, 6:
		return &taskv1.GetRouteResponse{Route: &taskv1.Route{Id: req.GetId()}}, nil
	}
	return nil, fault.New(fault.NotFound, "route %d does not exist", req.GetId())
}

func TestAdminsChooseTheKindsOfRequestTheBotOffers(t *testing.T) {
	h, fc := requestHarness(t)
	fc.set(active(7, "C-000007"))
	h.mu.Lock()
	client := h.client
	h.mu.Unlock()
	admin := servicetest.User(context.Background(), 6, []string{"settings.read", "settings.write"})
	list, err := client.ListRequestKinds(admin, &notifierv1.ListRequestKindsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range list.GetKinds() {
		names = append(names, k.GetName())
	}
	if strings.Join(names, "|") != "Нет интернета|Приостановить обслуживание|Возобновить обслуживание" {
		t.Fatalf("the seeded kinds: %q", names)
	}
	noInternet, pause := list.GetKinds()[0], list.GetKinds()[1]
	updated, err := client.UpdateRequestKinds(admin, &notifierv1.UpdateRequestKindsRequest{Kinds: []*notifierv1.RequestKind{
		{Label: "Переезд", RouteId: 2},
		{Id: noInternet.GetId(), RouteId: 2},
		{Id: pause.GetId(), Label: "Пауза", RouteId: 4},
	}})
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, k := range updated.GetKinds() {
		names = append(names, k.GetName())
	}
	if strings.Join(names, "|") != "Переезд|Нет интернета|Пауза" {
		t.Fatalf("after the update: %q", names)
	}
	q := h.say(ivanChat, "ru", "переезжаю", 0)
	if !strings.Contains(q.Markup, "Переезд") || strings.Contains(q.Markup, "Возобновить") {
		t.Fatalf("the bot offers %s", q.Markup)
	}
	for name, kinds := range map[string][]*notifierv1.RequestKind{
		"route No. 1":      {{Label: "Подключить", RouteId: 1}},
		"an unknown route": {{Label: "Что-то", RouteId: 99}},
		"an unknown kind":  {{Id: 999, Label: "Что-то", RouteId: 2}},
		"no name":          {{RouteId: 2}},
	} {
		if _, err := client.UpdateRequestKinds(admin, &notifierv1.UpdateRequestKindsRequest{Kinds: kinds}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if after, _ := client.ListRequestKinds(admin, &notifierv1.ListRequestKindsRequest{}); len(after.GetKinds()) != 3 {
		t.Fatalf("a refused update changed the kinds: %v", after.GetKinds())
	}
}
