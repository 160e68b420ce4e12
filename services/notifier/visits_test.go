package notifier

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

var moscow = func() *time.Location {
	l, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	return l
}()

// fixtureVisit is task 40's visit in Diagnostics: Friday 4 December 2026,
// 10:00–12:00 Moscow time, Anna and Carl booked.
func fixtureVisit() *taskv1.Visit {
	return &taskv1.Visit{
		Id: 9, TaskId: 40, TaskNumber: "T-000040", ProcessId: 101, ProcessName: "Diagnostics", GroupId: groupInstallers,
		State:     taskv1.VisitState_VISIT_STATE_BOOKED,
		StartTime: timestamppb.New(time.Date(2026, 12, 4, 10, 0, 0, 0, moscow)),
		EndTime:   timestamppb.New(time.Date(2026, 12, 4, 12, 0, 0, 0, moscow)),
		Technicians: []*taskv1.VisitTechnician{
			{UserId: 1, Name: "Anna <Lead> & Co"}, {UserId: 3, Name: "Carl"},
		},
		Address: "Tverskaya 1, apt 5", Note: "ring twice <door 2>", CustomerName: "Ivan Petrov", CustomerPhone: "+7 916 123-45-67",
		ContractNumber: "C-000007", TariffName: "Home 100", MapUrl: "https://yandex.ru/maps/?text=Tverskaya+1&z=17",
	}
}

type visitCall struct {
	Method     string
	TaskID     int64
	Report     taskv1.VisitReport
	Comment    string
	Technician string
	From, To   time.Time
	Caller     auth.Principal
}

// fakeVisits implements the visit calls the bot makes, with the real
// service's checks: a user behind the call; only a booked technician (or
// a supervisor) reports, in the order the visit allows.
type fakeVisits struct {
	taskv1.UnimplementedVisitServiceServer
	mu     sync.Mutex
	visits map[int64]*taskv1.Visit // by task
	calls  []visitCall
}

func (f *fakeVisits) book(v *taskv1.Visit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.visits[v.GetTaskId()] = proto.Clone(v).(*taskv1.Visit)
}

func (f *fakeVisits) state(taskID int64) taskv1.VisitState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.visits[taskID].GetState()
}

func (f *fakeVisits) done() []visitCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// reports are the reports the fake carried out.
func (f *fakeVisits) reports() []visitCall {
	var out []visitCall
	for _, c := range f.done() {
		if c.Method == "ReportVisit" {
			out = append(out, c)
		}
	}
	return out
}

func user(ctx context.Context) (*auth.Principal, error) {
	p, ok := auth.From(ctx)
	if !ok || p.IsService() {
		return nil, status.Error(codes.PermissionDenied, "a user must be behind this call")
	}
	return p, nil
}

func (f *fakeVisits) GetVisit(ctx context.Context, req *taskv1.GetVisitRequest) (*taskv1.GetVisitResponse, error) {
	if _, err := user(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.visits[req.GetTaskId()]
	if !ok || !visitOpen(v.GetState()) {
		return nil, fault.New(fault.NotFound, "task %d has no visit", req.GetTaskId())
	}
	return &taskv1.GetVisitResponse{Visit: proto.Clone(v).(*taskv1.Visit)}, nil
}

func (f *fakeVisits) ListVisits(ctx context.Context, req *taskv1.ListVisitsRequest) (*taskv1.ListVisitsResponse, error) {
	p, err := user(ctx)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	from, to := req.GetFrom().AsTime(), req.GetTo().AsTime()
	f.calls = append(f.calls, visitCall{Method: "ListVisits", Technician: req.GetTechnician(), From: from, To: to, Caller: *p})
	out := &taskv1.ListVisitsResponse{}
	for _, id := range sortedIDs(f.visits) {
		v := f.visits[id]
		if req.GetTechnician() == "me" && booked(v, p.UserID) &&
			v.GetStartTime().AsTime().Before(to) && v.GetEndTime().AsTime().After(from) {
			out.Visits = append(out.Visits, proto.Clone(v).(*taskv1.Visit))
		}
	}
	return out, nil
}

func (f *fakeVisits) ReportVisit(ctx context.Context, req *taskv1.ReportVisitRequest) (*taskv1.ReportVisitResponse, error) {
	p, err := user(ctx)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.visits[req.GetTaskId()]
	switch {
	case !ok || !visitOpen(v.GetState()):
		return nil, fault.New(fault.FailedPrecondition, "task %d has no visit booked", req.GetTaskId())
	case !booked(v, p.UserID):
		return nil, fault.New(fault.PermissionDenied, "only the technicians booked for the visit may report on it")
	case req.GetReport() == taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY && v.GetState() != taskv1.VisitState_VISIT_STATE_BOOKED:
		return nil, fault.New(fault.FailedPrecondition, "the visit is already under way")
	case req.GetReport() == taskv1.VisitReport_VISIT_REPORT_CANT_DO && strings.TrimSpace(req.GetComment()) == "":
		return nil, fault.Field("comment", "say why")
	}
	v.State = map[taskv1.VisitReport]taskv1.VisitState{
		taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY: taskv1.VisitState_VISIT_STATE_ON_THE_WAY,
		taskv1.VisitReport_VISIT_REPORT_ARRIVED:    taskv1.VisitState_VISIT_STATE_ARRIVED,
		taskv1.VisitReport_VISIT_REPORT_DONE:       taskv1.VisitState_VISIT_STATE_DONE,
		taskv1.VisitReport_VISIT_REPORT_CANT_DO:    taskv1.VisitState_VISIT_STATE_FAILED,
	}[req.GetReport()]
	f.calls = append(f.calls, visitCall{Method: "ReportVisit", TaskID: req.GetTaskId(), Report: req.GetReport(), Comment: req.GetComment(), Caller: *p})
	return &taskv1.ReportVisitResponse{Visit: proto.Clone(v).(*taskv1.Visit)}, nil
}

// visitNotice is a notice of a step on task 40's visit.
func visitNotice(eventID string, kind taskv1.TaskEventKind, v *taskv1.Visit, groups []int64, users ...int64) *notifierv1.TaskNotice {
	n := notice(eventID, kind, 6, groups...)
	n.ActorName, n.UserIds, n.Visit = "Sveta", users, v
	return n
}

func TestVisitNoticesReachTheBookedTechniciansWithTheirReportButtons(t *testing.T) {
	h := newHarness(t)
	h.enqueue(visitNotice("task-40/5", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED, fixtureVisit(), []int64{groupInstallers}, 1, 3))
	h.settled()

	anna := h.api.SentTo(chatAnna)
	if len(anna) != 1 {
		t.Fatalf("Anna got %d messages, want 1", len(anna))
	}
	for _, want := range []string{
		"<b>Visit booked</b>", "When: Fri 04.12 10:00–12:00",
		`Address: Tverskaya 1, apt 5 (<a href="https://yandex.ru/maps/?text=Tverskaya+1&amp;z=17">map</a>)`,
		"Phone: +7 916 123-45-67", "Tariff: Home 100", "Note: ring twice &lt;door 2&gt;", "Technicians: Anna &lt;Lead&gt; &amp; Co, Carl",
	} {
		if !strings.Contains(anna[0].Text, want) {
			t.Errorf("Anna's message lacks %q:\n%s", want, anna[0].Text)
		}
	}
	if err := botapifake.CheckHTML(anna[0].Text); err != nil {
		t.Fatalf("Telegram would refuse %q: %v", anna[0].Text, err)
	}
	reports := func(m botapifake.Message) bool {
		return strings.Contains(m.Markup, "t:40:101:way") && strings.Contains(m.Markup, "t:40:101:arr") &&
			strings.Contains(m.Markup, "t:40:101:done") && strings.Contains(m.Markup, "t:40:101:cant")
	}
	if !reports(anna[0]) || strings.Contains(anna[0].Markup, ":take") {
		t.Fatalf("a booked technician's keyboard: %s; want the four reports and no task buttons", anna[0].Markup)
	}
	// Carl is booked though not in the process's group: told, with reports.
	carl := h.api.SentTo(chatCarl)
	if len(carl) != 1 || !reports(carl[0]) {
		t.Fatalf("Carl (booked, other group) got %v", carl)
	}
	// Boris is in the group but not booked: the task's buttons.
	boris := h.api.SentTo(chatBoris)
	if len(boris) != 1 || !strings.Contains(boris[0].Text, "<b>Назначен выезд</b>") || !strings.Contains(boris[0].Text, "Когда: пт 04.12 10:00–12:00") ||
		strings.Contains(boris[0].Markup, ":way") || !strings.Contains(boris[0].Markup, ":take") {
		t.Fatalf("Boris (group, not booked) got %v", boris)
	}

	// A reminder names no group: only the booked technicians hear it.
	before := map[int64]int{}
	for _, c := range []int64{chatAnna, chatBoris, chatCarl} {
		before[c] = len(h.api.SentTo(c))
	}
	h.enqueue(visitNotice("task-40/6", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_REMINDED, fixtureVisit(), nil, 1, 3))
	h.settled()
	for c, want := range map[int64]int{chatAnna: 1, chatCarl: 1, chatBoris: 0} {
		if got := len(h.api.SentTo(c)) - before[c]; got != want {
			t.Errorf("chat %d got %d reminders, want %d", c, got, want)
		}
	}
	if last := h.api.SentTo(chatAnna)[len(h.api.SentTo(chatAnna))-1]; !strings.Contains(last.Text, "Reminder") || !reports(last) {
		t.Fatalf("the reminder: %q %s", last.Text, last.Markup)
	}

	// Once the technician is on site, the notice offers what is left.
	v := fixtureVisit()
	v.State = taskv1.VisitState_VISIT_STATE_ARRIVED
	h.enqueue(visitNotice("task-40/7", taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ARRIVED, v, []int64{groupInstallers}, 1, 3))
	h.settled()
	last := h.api.SentTo(chatCarl)[len(h.api.SentTo(chatCarl))-1]
	if !strings.Contains(last.Text, "on site") || strings.Contains(last.Markup, ":way") || strings.Contains(last.Markup, ":arr") || !strings.Contains(last.Markup, ":done") {
		t.Fatalf("after arrival Carl got %q %s", last.Text, last.Markup)
	}
}

// visitClock starts the notifier's clock at noon in Moscow on Thursday
// 3 December 2026, running on from there.
func visitClock(h *harness) {
	offset := time.Until(time.Date(2026, 12, 3, 12, 0, 0, 0, moscow))
	h.deps.Now = func() time.Time { return time.Now().Add(offset) }
}

func TestTodayAndTomorrowListTheTechniciansOwnVisitsOfTheDay(t *testing.T) {
	h := newStoppedHarness(t)
	visitClock(h)
	h.start()
	h.visits.book(fixtureVisit())

	got := h.say(chatAnna, "en", "/today", 0)
	if got.Text != "No visits booked for you today (Thu 03.12)." {
		t.Fatalf("/today: %q", got.Text)
	}
	got = h.say(chatAnna, "en", "/tomorrow", 0)
	if got.Text != "Tomorrow, Fri 04.12: 1 visit." {
		t.Fatalf("/tomorrow's head: %q", got.Text)
	}
	var card botapifake.Message
	eventually(t, 5*time.Second, func() bool {
		sent := h.api.SentTo(chatAnna)
		card = sent[len(sent)-1]
		return card.MessageID != got.MessageID
	}, "the visit's card")
	for _, want := range []string{
		"<b>10:00–12:00</b>", `<a href="https://crm.example.test/tasks/40">T-000040 (#40)</a>`, "Customer: Ivan Petrov",
		"Address: Tverskaya 1, apt 5", "Phone: +7 916 123-45-67", "Tariff: Home 100",
	} {
		if !strings.Contains(card.Text, want) {
			t.Errorf("the card lacks %q:\n%s", want, card.Text)
		}
	}
	if !strings.Contains(card.Markup, "t:40:101:way") {
		t.Fatalf("the card's keyboard: %s", card.Markup)
	}
	lists := slices.DeleteFunc(h.visits.done(), func(c visitCall) bool { return c.Method != "ListVisits" })
	if len(lists) != 2 {
		t.Fatalf("ListVisits calls %+v", lists)
	}
	tomorrow := lists[1]
	if tomorrow.Technician != "me" || tomorrow.Caller.UserID != 1 ||
		!tomorrow.From.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, moscow)) || !tomorrow.To.Equal(time.Date(2026, 12, 5, 0, 0, 0, 0, moscow)) {
		t.Fatalf("/tomorrow asked %+v; want Anna's own visits of 4 December, Moscow time", tomorrow)
	}

	// Boris is booked for nothing; he is answered in Russian.
	if got := h.say(chatBoris, "ru", "/tomorrow", 0); got.Text != "На завтра (пт 04.12) выездов у вас нет." {
		t.Fatalf("/tomorrow for Boris: %q", got.Text)
	}
	if got := h.say(4242, "en", "/today", 0); !strings.Contains(got.Text, "Link your account first") {
		t.Fatalf("/today from an unlinked chat: %q", got.Text)
	}
}

// card asks /tomorrow in Anna's chat and returns her visit's card, once
// the bot has noted what it is about (a reply to it is then understood).
func card(t *testing.T, h *harness) botapifake.Message {
	t.Helper()
	head := h.say(chatAnna, "en", "/tomorrow", 0)
	var c botapifake.Message
	eventually(t, 5*time.Second, func() bool {
		sent := h.api.SentTo(chatAnna)
		c = sent[len(sent)-1]
		if c.MessageID == head.MessageID {
			return false
		}
		pr, err := h.service().store.prompt(context.Background(), chatAnna, int64(c.MessageID))
		return err == nil && pr != nil
	}, "the visit's card")
	return c
}

// question waits for the bot's question (a forced reply) in a chat.
func question(t *testing.T, h *harness, chatID int64, after int) botapifake.Message {
	t.Helper()
	var q botapifake.Message
	eventually(t, 5*time.Second, func() bool {
		for _, m := range h.api.SentTo(chatID)[after:] {
			if strings.Contains(m.Markup, `"force_reply":true`) {
				q = m
				// answered once the bot has noted what it asked
				pr, err := h.service().store.prompt(context.Background(), chatID, int64(m.MessageID))
				return err == nil && pr != nil
			}
		}
		return false
	}, "the bot's question")
	return q
}

func TestVisitButtonsReportAsTheTechnicianCheckedAtPressTime(t *testing.T) {
	h := newStoppedHarness(t)
	visitClock(h)
	h.start()
	h.visits.book(fixtureVisit())
	msg := card(t, h)

	refused := []struct {
		name, want string
		chat       int64
	}{
		{"a technician not booked", "Этот выезд назначен не вам; ничего не изменено.", chatBoris},
		{"a role that may not work on tasks", "Your role does not allow working on tasks.", chatVera},
	}
	for _, tc := range refused {
		if a := h.press(tc.chat, msg, "t:40:101:way"); a.Text != tc.want {
			t.Errorf("%s: answered %q, want %q", tc.name, a.Text, tc.want)
		}
	}
	if a := h.press(chatAnna, msg, "t:40:102:way"); a.Text != "This visit is no longer booked; nothing was changed." {
		t.Errorf("a button of another process: answered %q", a.Text)
	}
	if r := h.visits.reports(); len(r) != 0 {
		t.Fatalf("refused presses reported %+v", r)
	}

	if a := h.press(chatAnna, msg, "t:40:101:way"); a.Text != "On your way to T-000040 (#40): the dispatcher is told." {
		t.Fatalf("On my way answered %q", a.Text)
	}
	if r := h.visits.reports(); len(r) != 1 || r[0].Report != taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY || r[0].Caller.UserID != 1 || r[0].TaskID != 40 {
		t.Fatalf("reports %+v, want Anna on the way to task 40", r)
	}
	// (the press of another process's button cleared the card: one edit)
	eventually(t, 5*time.Second, func() bool { return len(h.api.EditsOf(chatAnna, msg.MessageID)) == 2 }, "the card's keyboard follows the visit")
	if e := h.api.EditsOf(chatAnna, msg.MessageID)[1]; strings.Contains(e.Markup, ":way") || !strings.Contains(e.Markup, ":arr") {
		t.Fatalf("after On my way the keyboard is %s", e.Markup)
	}
	if a := h.press(chatAnna, msg, "t:40:101:way"); !strings.Contains(a.Text, "already under way") {
		t.Fatalf("On my way twice answered %q", a.Text)
	}
	if a := h.press(chatAnna, msg, "t:40:101:arr"); a.Text != "Arrival at T-000040 (#40) recorded." {
		t.Fatalf("Arrived answered %q", a.Text)
	}

	// Done asks what was done; the answer is the report's comment.
	n := len(h.api.SentTo(chatAnna))
	if a := h.press(chatAnna, msg, "t:40:101:done"); a.Text != "Write why, as a reply to my question." {
		t.Fatalf("Done answered %q", a.Text)
	}
	q := question(t, h, chatAnna, n)
	if !strings.Contains(q.Text, "What was done on T-000040 (#40)?") {
		t.Fatalf("the question: %q", q.Text)
	}
	if len(h.visits.reports()) != 2 {
		t.Fatal("Done reported before the answer came")
	}
	got := h.say(chatAnna, "en", "replaced the router", q.MessageID)
	if got.Text != "Done: the visit of T-000040 (#40) is completed and the task moves on." {
		t.Fatalf("the answer got %q", got.Text)
	}
	r := h.visits.reports()
	if len(r) != 3 || r[2].Report != taskv1.VisitReport_VISIT_REPORT_DONE || r[2].Comment != "replaced the router" || r[2].Caller.UserID != 1 {
		t.Fatalf("reports %+v, want Done with the answer", r)
	}
	if h.visits.state(40) != taskv1.VisitState_VISIT_STATE_DONE {
		t.Fatal("the visit is not done")
	}
	if a := h.press(chatAnna, msg, "t:40:101:arr"); a.Text != "This visit is no longer booked; nothing was changed." {
		t.Fatalf("a button of a done visit answered %q", a.Text)
	}

	// Can't do asks why, and sends the visit back with the reason.
	h.visits.book(fixtureVisit())
	msg = card(t, h)
	n = len(h.api.SentTo(chatAnna))
	h.press(chatAnna, msg, "t:40:101:cant")
	q = question(t, h, chatAnna, n)
	if !strings.Contains(q.Text, "Why can't the visit of T-000040 (#40) be done?") {
		t.Fatalf("the question: %q", q.Text)
	}
	if got := h.say(chatAnna, "en", "  ", q.MessageID); !strings.Contains(got.Text, "empty") {
		t.Fatalf("an empty reason got %q", got.Text)
	}
	got = h.say(chatAnna, "en", "nobody home", q.MessageID)
	if got.Text != "Recorded: the visit of T-000040 (#40) is back with dispatch." {
		t.Fatalf("the reason got %q", got.Text)
	}
	r = h.visits.reports()
	if last := r[len(r)-1]; last.Report != taskv1.VisitReport_VISIT_REPORT_CANT_DO || last.Comment != "nobody home" {
		t.Fatalf("reports %+v, want Can't do with the reason", r)
	}
}

func TestAPhotoRepliedToAVisitOfTheDayIsAttachedToItsTask(t *testing.T) {
	h := newStoppedHarness(t)
	ff := &fakeFiles{}
	addr := servicetest.Serve(t, func(s *grpcserver.Server) { taskv1.RegisterAttachmentServiceServer(s, ff) })
	h.deps.Files = taskv1.NewAttachmentServiceClient(h.dial(addr, h.deps.Forwarder))
	visitClock(h)
	h.start()
	h.visits.book(fixtureVisit())
	msg := card(t, h)

	photo := jpegPhoto(t)
	id := h.api.AddFile(photo, 0, ".jpg")
	got := h.send(chatAnna, botapifake.Photo(chatAnna, "en", id, int64(len(photo)), "the socket, installed", msg.MessageID))
	if !strings.Contains(got.Text, "is attached to T-000040 (#40)") {
		t.Fatalf("the bot answered %q", got.Text)
	}
	up := ff.uploads()
	if len(up) != 1 || !bytes.Equal(up[0].data, photo) || up[0].caller != 1 || up[0].header.GetTaskId() != 40 || up[0].header.GetCommentText() != "the socket, installed" {
		t.Fatalf("uploads %+v", up)
	}
	// a reply in words to the card is a comment on its task
	if got := h.say(chatAnna, "en", "customer asks to call at the gate", msg.MessageID); got.Text != "Comment added to T-000040 (#40)." {
		t.Fatalf("a reply to the card got %q", got.Text)
	}
}
