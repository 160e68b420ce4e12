package notifier

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/notifier/sms"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

// Ivan Petrov, customer 3, has a home number and a mobile one.
const (
	ivanMobile = "79161234567"
	ivanChat   = 5003
)

// fakeCustomers answers the customer service's calls the notifier makes.
type fakeCustomers struct {
	customerv1.UnimplementedCustomerServiceServer
	mu        sync.Mutex
	customers map[int64]*customerv1.Customer
}

func (f *fakeCustomers) GetCustomer(_ context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[req.GetId()]
	if !ok {
		return nil, fault.New(fault.NotFound, "customer %d does not exist", req.GetId())
	}
	return &customerv1.GetCustomerResponse{Customer: proto.Clone(c).(*customerv1.Customer)}, nil
}

func (f *fakeCustomers) FindCustomerByPhone(_ context.Context, req *customerv1.FindCustomerByPhoneRequest) (*customerv1.FindCustomerByPhoneResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.customers {
		for _, p := range c.GetPhones() {
			if p.GetNumber() == req.GetNumber() {
				return &customerv1.FindCustomerByPhoneResponse{Customer: proto.Clone(c).(*customerv1.Customer)}, nil
			}
		}
	}
	return nil, fault.New(fault.NotFound, "no customer has the number %s", req.GetNumber())
}

// customerHarness is the harness with the customer service and SMS.ru
// (fakes), its clock started at the given time in Moscow.
func customerHarness(t *testing.T, at time.Time) (*harness, *smsrufake.Server) {
	t.Helper()
	h := newStoppedHarness(t)
	fc := &fakeCustomers{customers: map[int64]*customerv1.Customer{3: {
		Id: 3, Name: "Ivan Petrov", Phones: []*customerv1.Phone{{Number: "+74951234567", Label: "home"}, {Number: "+" + ivanMobile, Label: "mobile"}},
	}}}
	addr := servicetest.Serve(t, func(s *grpcserver.Server) { customerv1.RegisterCustomerServiceServer(s, fc) })
	h.deps.Customers = customerv1.NewCustomerServiceClient(h.dial(addr, h.deps.Forwarder))
	provider, err := smsrufake.New("sms-key")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(provider.Close)
	h.deps.SMS = sms.NewSMSRu(provider.URL(), "sms-key", "TelecomCRM", 3*time.Second)
	offset := time.Until(at)
	h.deps.Now = func() time.Time { return time.Now().Add(offset) }
	h.cfg.OfficePhone = "+7 495 000-00-00"
	h.cfg.QuietHours = "21:00-09:00"
	h.start()
	return h, provider
}

// connectionNotice is a step of customer 3's connection task 50.
func connectionNotice(eventID string, kind taskv1.TaskEventKind, state taskv1.TaskState) *notifierv1.TaskNotice {
	n := notice(eventID, kind, 6, groupInstallers)
	n.TaskId, n.TaskNumber, n.TaskKind, n.TaskState = 50, "T-000050", taskv1.TaskKind_TASK_KIND_CONNECTION, state
	return n
}

func (h *harness) customerLog() []*notifierv1.CustomerMessage {
	h.t.Helper()
	h.mu.Lock()
	client := h.client
	h.mu.Unlock()
	resp, err := client.ListCustomerMessages(servicetest.User(context.Background(), 6, servicetest.Viewer), &notifierv1.ListCustomerMessagesRequest{CustomerId: 3})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.GetMessages()
}

// logState waits for the customer's n-th message (the newest) to reach a
// state.
func (h *harness) logState(n int, state string) *notifierv1.CustomerMessage {
	h.t.Helper()
	var m *notifierv1.CustomerMessage
	eventually(h.t, 10*time.Second, func() bool {
		log := h.customerLog()
		if len(log) != n {
			return false
		}
		m = log[0]
		return m.GetState() == state
	}, fmt.Sprintf("the customer's message %d %s", n, state))
	return m
}

func TestMilestonesReachTheCustomerBySMSOnceAndAreLogged(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	opened := connectionNotice("task-50/1", taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskState_TASK_STATE_OPEN)
	h.enqueue(opened)
	h.enqueue(opened)
	m := h.logState(1, stateDelivered)
	sent := provider.SentTo(ivanMobile)
	if len(sent) != 1 || sent[0].Text != "Ivan Petrov, здравствуйте! Договор C-000007 открыт. Мы сообщим, когда назначим монтаж." || sent[0].From != "TelecomCRM" {
		t.Fatalf("the provider took %+v", provider.Sent())
	}
	if m.GetChannel() != notifierv1.CustomerChannel_CUSTOMER_CHANNEL_SMS || m.GetMilestone() != msContractOpened || m.GetAddress() != "+"+ivanMobile || m.GetAttempts() != 1 {
		t.Fatalf("the log says %v", m)
	}

	booked := connectionNotice("task-50/4", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED, taskv1.TaskState_TASK_STATE_OPEN)
	booked.Visit = fixtureVisit()
	h.enqueue(booked)
	h.logState(2, stateDelivered)
	moved := connectionNotice("task-50/5", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED, taskv1.TaskState_TASK_STATE_OPEN)
	moved.Visit = fixtureVisit()
	moved.Visit.StartTime, moved.Visit.EndTime = timestampAt(2026, 12, 5, 14), timestampAt(2026, 12, 5, 16)
	h.enqueue(moved)
	h.logState(3, stateDelivered)
	sent = provider.SentTo(ivanMobile)
	if len(sent) != 3 || sent[1].Text != "Ivan Petrov, монтажник приедет 04.12.2026 с 10:00 до 12:00 (заявка T-000050)." ||
		sent[2].Text != "Ivan Petrov, визит перенесён: 05.12.2026 с 14:00 до 16:00 (заявка T-000050)." {
		t.Fatalf("the visit's messages: %q", textsOf(sent))
	}
	// steps that are no milestone tell the customer nothing
	h.enqueue(connectionNotice("task-50/6", taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, taskv1.TaskState_TASK_STATE_OPEN))
	h.enqueue(connectionNotice("task-50/7", taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskState_TASK_STATE_CLOSED))
	h.logState(4, stateDelivered)
	if log := h.customerLog(); len(log) != 4 || log[0].GetMilestone() != msConnected {
		t.Fatalf("the log: %v", log)
	}
	if got := len(provider.SentTo(ivanMobile)); got != 4 {
		t.Fatalf("%d SMS, want 4", got)
	}
}

func timestampAt(y int, m time.Month, d, hour int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(y, m, d, hour, 0, 0, 0, moscow))
}

func textsOf(ms []smsrufake.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func TestQuietHoursHoldAnSMSUntilMorningButNotAnUrgentOne(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 22, 30, 0, 0, moscow))
	h.enqueue(connectionNotice("task-50/1", taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskState_TASK_STATE_OPEN))
	var held *notifierv1.CustomerMessage
	eventually(t, 10*time.Second, func() bool {
		log := h.customerLog()
		if len(log) == 0 {
			return false
		}
		held = log[0]
		return held.GetReason() == reasonQuiet
	}, "the SMS held for quiet hours")
	if want := time.Date(2026, 12, 4, 9, 0, 0, 0, moscow); held.GetState() != statePending || !held.GetNextAttemptTime().AsTime().Equal(want) {
		t.Fatalf("held %v; want pending until %v", held, want)
	}
	onTheWay := connectionNotice("task-50/8", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ON_THE_WAY, taskv1.TaskState_TASK_STATE_OPEN)
	onTheWay.Visit = fixtureVisit()
	h.enqueue(onTheWay)
	h.logState(2, stateDelivered)
	sent := provider.SentTo(ivanMobile)
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "монтажник выехал") {
		t.Fatalf("in quiet hours the provider took %q; want only the urgent one", textsOf(sent))
	}
}

func TestProviderRefusalsAreRetriedOnlyWhenTemporaryAndOptOutStopsSMS(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	provider.Refuse(220, 220)
	h.enqueue(connectionNotice("task-50/1", taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskState_TASK_STATE_OPEN))
	if m := h.logState(1, stateDelivered); m.GetAttempts() != 3 {
		t.Fatalf("after two temporary refusals: %v; want sent at the third attempt", m)
	}
	provider.Refuse(207)
	h.enqueue(connectionNotice("task-50/9", taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskState_TASK_STATE_CLOSED))
	m := h.logState(2, stateFailed)
	if m.GetAttempts() != 1 || !strings.Contains(m.GetReason(), "code 207") {
		t.Fatalf("a permanent refusal: %v", m)
	}
	provider.GoDown()
	calls := provider.Calls("sms/send")
	onTheWay := connectionNotice("task-50/10", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ON_THE_WAY, taskv1.TaskState_TASK_STATE_OPEN)
	onTheWay.Visit = fixtureVisit()
	h.enqueue(onTheWay)
	eventually(t, 10*time.Second, func() bool { return provider.Calls("sms/send") >= calls+3 }, "retries while the provider is down")
	provider.ComeBack()
	if m := h.logState(3, stateDelivered); m.GetAttempts() < 4 || m.GetMilestone() != msVisitOnTheWay {
		t.Fatalf("after the provider came back: %v", m)
	}
	if got := len(provider.SentTo(ivanMobile)); got != 2 {
		t.Fatalf("the provider took %d messages, want 2: each once", got)
	}

	ctx := servicetest.User(context.Background(), 6, []string{"customers.read", "customers.write"})
	h.mu.Lock()
	client := h.client
	h.mu.Unlock()
	ch, err := client.UpdateCustomerChannels(ctx, &notifierv1.UpdateCustomerChannelsRequest{CustomerId: 3, Channels: &notifierv1.CustomerChannels{SmsOptOut: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.GetChannels().GetSmsOptOut() || ch.GetChannels().GetSmsNumber() != "+"+ivanMobile || ch.GetChannels().GetTelegramLinked() {
		t.Fatalf("channels %v", ch.GetChannels())
	}
	before := len(provider.Sent())
	h.enqueue(connectionNotice("task-50/11", taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskState_TASK_STATE_OPEN))
	if m := h.logState(4, stateSkipped); m.GetReason() != reasonOptedOut {
		t.Fatalf("after opting out: %v", m)
	}
	if len(provider.Sent()) != before {
		t.Fatal("an SMS went to a customer who opted out")
	}
}

func TestACustomerLinksByTheirOwnContactAndHearsInTelegramUntilStop(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	got := h.say(ivanChat, "ru", "/start", 0)
	if !strings.Contains(got.Text, "поделитесь номером") || !strings.Contains(got.Markup, `"request_contact":true`) {
		t.Fatalf("/start in a stranger's chat: %q %s", got.Text, got.Markup)
	}
	if got := h.send(ivanChat, botapifake.Contact(ivanChat, "ru", ivanMobile, 999)); !strings.Contains(got.Text, "своим контактом") {
		t.Fatalf("somebody else's contact: %q", got.Text)
	}
	if got := h.send(ivanChat, botapifake.Contact(ivanChat, "ru", "79990000000", ivanChat)); !strings.Contains(got.Text, "+79990000000 не найден") || !strings.Contains(got.Text, "+7 495 000-00-00") {
		t.Fatalf("an unknown number: %q", got.Text)
	}
	if got := h.send(chatAnna, botapifake.Contact(chatAnna, "en", ivanMobile, chatAnna)); !strings.Contains(got.Text, "staff account") {
		t.Fatalf("a staff chat sharing a customer's number: %q", got.Text)
	}
	if got := h.send(ivanChat, botapifake.Contact(ivanChat, "ru", ivanMobile, ivanChat)); got.Text != "Спасибо, Ivan Petrov! Новости по вашим договорам и заявкам будут приходить сюда. Чтобы отключить их, отправьте СТОП." {
		t.Fatalf("the customer's own contact: %q", got.Text)
	}

	before := len(h.api.SentTo(ivanChat))
	booked := connectionNotice("task-50/4", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED, taskv1.TaskState_TASK_STATE_OPEN)
	booked.Visit = fixtureVisit()
	h.enqueue(booked)
	h.settled()
	msgs := h.api.SentTo(ivanChat)
	if len(msgs) != before+1 || msgs[before].Text != "Ivan Petrov, монтажник приедет 04.12.2026 с 10:00 до 12:00 (заявка T-000050)." || msgs[before].HasButtons() {
		t.Fatalf("the linked customer got %q", textsTo(msgs[before:]))
	}
	if len(provider.Sent()) != 0 {
		t.Fatal("a linked customer was texted as well")
	}
	if m := h.logState(1, stateSent); m.GetChannel() != notifierv1.CustomerChannel_CUSTOMER_CHANNEL_TELEGRAM || m.GetAddress() != "telegram" {
		t.Fatalf("the log: %v", m)
	}

	if got := h.say(ivanChat, "ru", "СТОП", 0); !strings.Contains(got.Text, "отключены") {
		t.Fatalf("STOP: %q", got.Text)
	}
	h.enqueue(connectionNotice("task-50/9", taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskState_TASK_STATE_CLOSED))
	// Telegram is off: the milestone goes by SMS instead
	h.logState(2, stateDelivered)
	if got := h.api.SentTo(ivanChat); len(got) != before+2 {
		t.Fatalf("after STOP the chat got %q", textsTo(got[before:]))
	}
	if sent := provider.SentTo(ivanMobile); len(sent) != 1 || !strings.Contains(sent[0].Text, "подключение завершено") {
		t.Fatalf("after STOP in Telegram the provider took %q", textsOf(provider.Sent()))
	}
	if got := h.say(ivanChat, "ru", "/help", 0); !strings.Contains(got.Text, "откроем заявку") {
		t.Fatalf("/help in a customer's chat: %q", got.Text)
	}
}

func TestQuietHoursWrapMidnightAndEndWhereTheySay(t *testing.T) {
	night, err := parseQuiet("21:00-09:00")
	if err != nil {
		t.Fatal(err)
	}
	lunch, err := parseQuiet("13:00-14:00")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, moscow) }
	cases := []struct {
		q       quietHours
		t, want time.Time
		held    bool
	}{
		{night, at(3, 20, 59), time.Time{}, false},
		{night, at(3, 21, 0), at(4, 9, 0), true},
		{night, at(4, 3, 15), at(4, 9, 0), true},
		{night, at(4, 9, 0), time.Time{}, false},
		{lunch, at(3, 13, 30), at(3, 14, 0), true},
		{lunch, at(3, 14, 0), time.Time{}, false},
	}
	for _, tc := range cases {
		// the instant is given in UTC: the zone decides
		end, held := tc.q.until(tc.t.UTC(), moscow)
		if held != tc.held || held && !end.Equal(tc.want) {
			t.Errorf("%v at %v: held %v until %v, want %v until %v", tc.q, tc.t, held, end, tc.held, tc.want)
		}
	}
	for _, bad := range []string{"21-9", "21:00", "25:00-09:00", "09:00-09:00"} {
		if _, err := parseQuiet(bad); err == nil {
			t.Errorf("parseQuiet(%q) accepted", bad)
		}
	}
	// an empty variable takes the default; "none" turns them off
	if none, err := parseQuiet(" None "); err != nil {
		t.Errorf("parseQuiet(none): %v", err)
	} else if _, held := none.until(time.Date(2026, 12, 3, 23, 0, 0, 0, moscow), moscow); held {
		t.Error("no quiet hours held an SMS at 23:00")
	}
}

func TestACommentToTheCustomerIsSentToThemAndOneAmongStaffIsNot(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	among := notice("task-40/3", taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, 6, groupInstallers)
	among.Text = "check the node first"
	h.enqueue(among)
	toThem := notice("task-40/4", taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, 6, groupInstallers)
	toThem.Text, toThem.CommentAudience = "A technician comes tomorrow", taskv1.CommentAudience_COMMENT_AUDIENCE_TO_CUSTOMER
	h.enqueue(toThem)
	h.logState(1, stateDelivered)
	if sent := provider.SentTo(ivanMobile); len(sent) != 1 || sent[0].Text != "По вашей заявке T-000040: A technician comes tomorrow" {
		t.Fatalf("the provider took %q", textsOf(provider.Sent()))
	}
}

func TestEveryDefaultTextFillsOnlyItsMilestonesPlaceholders(t *testing.T) {
	for _, ms := range milestones {
		for _, l := range []string{"ru", "en"} {
			text := say(l, "cust."+ms)
			if text == "cust."+ms || strings.Contains(text, "%") {
				t.Errorf("%s/%s: %q is not a template", ms, l, text)
			}
			if err := checkTemplate(ms, text); err != nil {
				t.Errorf("%s/%s: %v", ms, l, err)
			}
			if filled := fill(text, samples); strings.ContainsAny(filled, "{}") {
				t.Errorf("%s/%s leaves a placeholder: %q", ms, l, filled)
			}
		}
	}
}

func TestAdminsWriteTheCustomersTextsAndAnUnknownPlaceholderIsRefused(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	h.mu.Lock()
	client := h.client
	h.mu.Unlock()
	admin := servicetest.User(context.Background(), 6, []string{"settings.read", "settings.write"})
	list, err := client.ListCustomerTemplates(admin, &notifierv1.ListCustomerTemplatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetTemplates()) != 2*len(milestones) {
		t.Fatalf("%d templates, want %d", len(list.GetTemplates()), 2*len(milestones))
	}
	bad := []*notifierv1.UpdateCustomerTemplateRequest{
		{Milestone: msContractOpened, Language: "ru", Text: "{name}, договор {contract} на {tariff}"},
		{Milestone: "birthday", Language: "ru", Text: "С днём рождения"},
		{Milestone: msContractOpened, Language: "de", Text: "Hallo"},
	}
	for _, req := range bad {
		if _, err := client.UpdateCustomerTemplate(admin, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v, want InvalidArgument", req, err)
		}
	}
	preview, err := client.PreviewCustomerTemplate(admin, &notifierv1.PreviewCustomerTemplateRequest{Milestone: msContractOpened, Language: "ru", Text: "Привет, {name}! Договор {contract} готов."})
	if err != nil || preview.GetText() != "Привет, Иван Петров! Договор C-000123 готов." {
		t.Fatalf("preview %q, %v", preview.GetText(), err)
	}
	up, err := client.UpdateCustomerTemplate(admin, &notifierv1.UpdateCustomerTemplateRequest{Milestone: msContractOpened, Language: "ru", Text: "Привет, {name}! Договор {contract} готов."})
	if err != nil || !up.GetTemplate().GetCustom() {
		t.Fatalf("update %v, %v", up.GetTemplate(), err)
	}
	h.enqueue(connectionNotice("task-50/1", taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskState_TASK_STATE_OPEN))
	h.logState(1, stateDelivered)
	if sent := provider.SentTo(ivanMobile); len(sent) != 1 || sent[0].Text != "Привет, Ivan Petrov! Договор C-000007 готов." {
		t.Fatalf("the provider took %q", textsOf(provider.Sent()))
	}
	// an empty text restores the default
	back, err := client.UpdateCustomerTemplate(admin, &notifierv1.UpdateCustomerTemplateRequest{Milestone: msContractOpened, Language: "ru"})
	if err != nil || back.GetTemplate().GetCustom() || back.GetTemplate().GetText() != back.GetTemplate().GetDefaultText() {
		t.Fatalf("reset %v, %v", back.GetTemplate(), err)
	}
}

func TestAnSMSWhoseAnswerWasLostIsSentAgainAndCountedAsAPossibleDuplicate(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	provider.DropAnswers(1)
	h.enqueue(connectionNotice("task-50/1", taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskState_TASK_STATE_OPEN))
	m := h.logState(1, stateDelivered)
	if got := len(provider.SentTo(ivanMobile)); got != 2 || m.GetAttempts() != 2 {
		t.Fatalf("the provider took %d copies in %d attempts; want the lost one and its repeat", got, m.GetAttempts())
	}
	stats, err := h.client.GetDeliveryStats(servicetest.User(context.Background(), 6, servicetest.Viewer), &notifierv1.GetDeliveryStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.GetSmsPossibleDuplicates() != 1 || stats.GetSmsSent() != 1 || stats.GetSmsPending() != 0 || stats.GetSmsFailed() != 0 {
		t.Fatalf("stats %v: want one SMS sent, counted as a possible duplicate", stats)
	}
}

func TestAStepReplacedAtItsSequenceTellsTheCustomerOnceUnlessItIsAnotherMilestone(t *testing.T) {
	h, provider := customerHarness(t, time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	// The close written, dropped by the workflow's history, written again
	// at its sequence as revision 1: the same news.
	h.enqueue(connectionNotice("task-50/7", taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskState_TASK_STATE_CLOSED))
	h.logState(1, stateDelivered)
	h.enqueue(connectionNotice("task-50/7.1", taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskState_TASK_STATE_CLOSED))
	// A contract opened at sequence 1, then its replacement at 1 names
	// another milestone: the customer hears of both.
	h.enqueue(connectionNotice("task-50/1", taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED, taskv1.TaskState_TASK_STATE_OPEN))
	h.logState(2, stateDelivered)
	h.enqueue(connectionNotice("task-50/1.1", taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, taskv1.TaskState_TASK_STATE_CLOSED))
	h.logState(3, stateDelivered)
	if got := textsOf(provider.SentTo(ivanMobile)); len(got) != 3 {
		t.Fatalf("%d texts, want 3: %q", len(got), got)
	}
	if log := h.customerLog(); log[0].GetMilestone() != msConnected || log[1].GetMilestone() != msContractOpened || log[2].GetMilestone() != msConnected {
		t.Fatalf("the log: %v", log)
	}
}

func TestStepKeyDropsOnlyTheRevision(t *testing.T) {
	for in, want := range map[string]string{"task-5/7": "task-5/7", "task-5/7.1": "task-5/7", "task-5/12.3": "task-5/12", "webhook-1/disabled/x.y": "webhook-1/disabled/x", "plain": "plain"} {
		if got := stepKey(in); got != want {
			t.Errorf("stepKey(%q) = %q, want %q", in, got, want)
		}
	}
}
