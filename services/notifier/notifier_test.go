package notifier

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

const (
	chatAnna  = 1001
	chatBoris = 1002
	chatCarl  = 1003
	chatEgor  = 1005
	chatSveta = 1006
	chatVera  = 1007
)

var (
	created  = taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED
	advanced = taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED
	breached = taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED
)

func TestStartWithCodeLinksTheChatAndBadCodesGetClearAnswers(t *testing.T) {
	h := newHarness(t)
	h.identity.mu.Lock()
	h.identity.codes["GOODCODE"] = &linkCode{UserID: 4}
	h.identity.codes["OLDCODE1"] = &linkCode{UserID: 4, Expired: true}
	h.identity.codes["USEDCODE"] = &linkCode{UserID: 4, Used: true}
	h.identity.mu.Unlock()
	const chat = 2004

	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown code", "/start NOSUCHCODE", "This code is unknown"},
		{"expired code", "/start OLDCODE1", "This code has expired"},
		{"used code", "/start USEDCODE", "This code has been used already"},
		{"no code", "/start", "/start CODE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.say(chat, "en", tc.text, 0)
			if !strings.Contains(got.Text, tc.want) {
				t.Fatalf("answer %q does not say %q", got.Text, tc.want)
			}
			if u := h.identity.user(4); u.ChatID != 0 {
				t.Fatalf("the chat got linked to Dina by %q", tc.text)
			}
		})
	}
	t.Run("good code", func(t *testing.T) {
		got := h.say(chat, "en", "/start GOODCODE", 0)
		// Dina reads Russian: the answer switches to her language.
		if !strings.Contains(got.Text, "Готово: вы — Dina") {
			t.Fatalf("answer %q does not confirm the link in Dina's language", got.Text)
		}
		if u := h.identity.user(4); u.ChatID != chat {
			t.Fatalf("Dina's chat is %d, want %d", u.ChatID, chat)
		}
	})
	t.Run("code spent", func(t *testing.T) {
		got := h.say(2005, "ru", "/start GOODCODE", 0)
		if !strings.Contains(got.Text, "уже использован") {
			t.Fatalf("a second use of a code got %q", got.Text)
		}
		if u := h.identity.user(4); u.ChatID != chat {
			t.Fatalf("a spent code moved Dina's chat to %d", u.ChatID)
		}
	})
	t.Run("stop unlinks", func(t *testing.T) {
		got := h.say(chat, "en", "/stop", 0)
		if !strings.Contains(got.Text, "Чат отвязан") {
			t.Fatalf("/stop answered %q", got.Text)
		}
		calls := h.identity.unlinkCalls()
		if len(calls) != 1 || calls[0] != (unlinkCall{ChatID: chat, Reason: "stop"}) {
			t.Fatalf("unlink calls %+v, want one for chat %d with reason stop", calls, chat)
		}
	})
}

func TestNoticeReachesTheMembersOfItsGroupsOnlyAndNotTheActor(t *testing.T) {
	h := newHarness(t)
	// Boris created the task in the installers' process.
	if q := h.enqueue(notice("task-40/1", created, 2, groupInstallers)); q != 1 {
		t.Fatalf("queued %d, want 1", q)
	}
	st := h.settled()
	if got := len(h.api.SentTo(chatAnna)); got != 1 {
		t.Fatalf("Anna (installer) got %d messages, want 1", got)
	}
	for who, chat := range map[string]int64{"Boris (the actor)": chatBoris, "Carl (provisioning)": chatCarl, "Egor": chatEgor, "Sveta": chatSveta} {
		if got := len(h.api.SentTo(chat)); got != 0 {
			t.Errorf("%s got %d messages, want none", who, got)
		}
	}
	// Dina has no Telegram, Vera has: 2 sent, 1 skipped.
	if got := len(h.api.SentTo(chatVera)); got != 1 {
		t.Errorf("Vera (installer) got %d messages, want 1", got)
	}
	if st.Sent != 2 || st.Skipped != 1 {
		t.Fatalf("stats %+v, want 2 sent (Anna, Vera) and 1 skipped (Dina, no chat)", st)
	}

	// Egor moved it on to provisioning; he asked to hear of his own
	// actions. The installers hear it left them, the provisioners that it
	// came.
	n := notice("task-40/2", advanced, 5, groupInstallers, groupProvisioning)
	n.FromProcessName, n.ProcessName, n.ProcessId, n.CurrentGroupId = "Diagnostics", "Provisioning", 102, groupProvisioning
	h.enqueue(n)
	h.settled()
	for who, chat := range map[string]int64{"Anna": chatAnna, "Boris": chatBoris, "Carl": chatCarl, "Egor (notify_self)": chatEgor, "Vera": chatVera} {
		if got := countWith(h.api.SentTo(chat), "Provisioning"); got != 1 {
			t.Errorf("%s got %d messages about the move, want 1", who, got)
		}
	}
	if got := len(h.api.SentTo(chatSveta)); got != 0 {
		t.Errorf("Sveta (supervisor, not in the groups) got %d messages", got)
	}

	// An SLA breach reaches the supervisors too.
	b := notice("task-40/3", breached, 0, groupProvisioning)
	b.IncludeSupervisors = true
	h.enqueue(b)
	h.settled()
	if got := countWith(h.api.SentTo(chatSveta), "SLA breached"); got != 1 {
		t.Fatalf("Sveta got %d SLA breach messages, want 1: %q", got, textsTo(h.api.SentTo(chatSveta)))
	}
}

func TestRepeatedEventIsQueuedOnceAndSentOnce(t *testing.T) {
	h := newHarness(t)
	if q := h.enqueue(notice("task-40/1", created, 0, groupInstallers)); q != 1 {
		t.Fatalf("first call queued %d, want 1", q)
	}
	if q := h.enqueue(notice("task-40/1", created, 0, groupInstallers)); q != 0 {
		t.Fatalf("repeated call queued %d, want 0", q)
	}
	h.settled()
	time.Sleep(100 * time.Millisecond)
	if got := len(h.api.SentTo(chatAnna)); got != 1 {
		t.Fatalf("Anna got %d messages for one event, want 1", got)
	}
}

func TestEnqueueRefusesANoticeWithoutEventID(t *testing.T) {
	h := newHarness(t)
	h.mu.Lock()
	client := h.client
	h.mu.Unlock()
	n := notice("", created, 0, groupInstallers)
	_, err := client.EnqueueTaskEvent(servicetest.Service(context.Background(), "task"), &notifierv1.EnqueueTaskEventRequest{Notice: n})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a notice without an event id: %v, want InvalidArgument", err)
	}
	// Users cannot queue notices: the call is for services.
	n.EventId = "x"
	_, err = client.EnqueueTaskEvent(servicetest.User(context.Background(), 1, servicetest.Admin), &notifierv1.EnqueueTaskEventRequest{Notice: n})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a user queueing a notice: %v, want PermissionDenied", err)
	}
}

func TestMessagesSpeakTheRecipientsLanguageEscapeTextAndCarryButtons(t *testing.T) {
	h := newHarness(t)
	n := notice("task-40/1", created, 3, groupInstallers)
	n.TaskTitle = `Cable <cut> & "router" dead`
	n.Text = "Customer says: <b>urgent</b>"
	h.enqueue(n)
	h.settled()
	anna, boris := h.api.SentTo(chatAnna), h.api.SentTo(chatBoris)
	if len(anna) != 1 || len(boris) != 1 {
		t.Fatalf("Anna got %d, Boris %d messages; want 1 each", len(anna), len(boris))
	}
	for _, want := range []string{"T-000040 (#40)", "Customer: Ivan Petrov", "Contract: C-000007", "Route: Repair", "Process: Diagnostics",
		"Cable &lt;cut&gt; &amp; &#34;router&#34; dead", "&lt;b&gt;urgent&lt;/b&gt;", `href="https://crm.example.test/tasks/40"`} {
		if !strings.Contains(anna[0].Text, want) {
			t.Errorf("Anna's message lacks %q:\n%s", want, anna[0].Text)
		}
	}
	for _, want := range []string{"Клиент: Ivan Petrov", "Договор: C-000007", "Маршрут: Repair", "Этап: Diagnostics", "Открыть в консоли"} {
		if !strings.Contains(boris[0].Text, want) {
			t.Errorf("Boris's message lacks %q:\n%s", want, boris[0].Text)
		}
	}
	if anna[0].ParseMode != "HTML" {
		t.Errorf("parse mode %q, want HTML", anna[0].ParseMode)
	}
	for _, data := range []string{"t:40:101:take", "t:40:101:adv", "t:40:101:ret"} {
		if !strings.Contains(anna[0].Markup, data) {
			t.Errorf("Anna's buttons lack %s: %s", data, anna[0].Markup)
		}
	}
	if !strings.Contains(boris[0].Markup, "Взять") {
		t.Errorf("Boris's buttons are not in Russian: %s", boris[0].Markup)
	}

	// Those who are told but are not in the task's current group get no
	// buttons; nor does anyone once the task is closed.
	m := notice("task-40/2", advanced, 0, groupInstallers, groupProvisioning)
	m.ProcessId, m.ProcessName, m.CurrentGroupId = 102, "Provisioning", groupProvisioning
	h.enqueue(m)
	c := notice("task-40/3", taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED, 0, groupProvisioning)
	c.TaskState, c.ProcessId, c.CurrentGroupId = taskv1.TaskState_TASK_STATE_CLOSED, 0, 0
	h.enqueue(c)
	h.settled()
	if msgs := h.api.SentTo(chatAnna); len(msgs) != 2 || msgs[1].HasButtons() {
		t.Errorf("Anna (no longer in the current group) got buttons: %+v", msgs)
	}
	carl := h.api.SentTo(chatCarl)
	if len(carl) != 2 || !carl[0].HasButtons() || carl[1].HasButtons() {
		t.Errorf("Carl should have buttons on the open task only: %+v", carl)
	}
}

func TestFloodRetryAfterIsHonoured(t *testing.T) {
	h := newHarness(t)
	h.api.FailSends(chatAnna, botapifake.Flood, 1, 1)
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	st := h.settled()
	tries := h.api.AttemptsTo(chatAnna)
	if len(tries) != 2 || tries[0].Result != "429" || tries[1].Result != "sent" {
		t.Fatalf("attempts to Anna %+v, want a 429 then a send", tries)
	}
	if gap := tries[1].At.Sub(tries[0].At); gap < time.Second {
		t.Fatalf("retried %v after a 429 with retry_after 1, want at least 1s", gap)
	}
	if len(h.api.SentTo(chatAnna)) != 1 || st.Retries != 1 || st.PossibleDuplicates != 0 {
		t.Fatalf("stats %+v after one 429", st)
	}
	// Others were not held up by Anna's wait.
	if boris := h.api.SentTo(chatBoris); len(boris) != 1 || boris[0].At.After(tries[1].At) {
		t.Fatalf("Boris waited for Anna's flood limit: %+v", boris)
	}
}

func TestServerErrorsAreRetriedWithBackoff(t *testing.T) {
	const base = 20 * time.Millisecond
	h := newHarness(t, func(o *Config) { o.BackoffBase, o.BackoffMax = base, time.Second })
	h.api.FailSends(chatAnna, botapifake.ServerError, 3, 0)
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	st := h.settled()
	if got := len(h.api.SentTo(chatAnna)); got != 1 {
		t.Fatalf("Anna got %d messages, want 1", got)
	}
	tries := h.api.AttemptsTo(chatAnna)
	if len(tries) != 4 {
		t.Fatalf("attempts to Anna %+v, want 3 failures and a send", tries)
	}
	// Retry i waits at least base·2^(i-1), less the 20% jitter.
	for i := 1; i < len(tries); i++ {
		least := time.Duration(float64(base<<(i-1)) * 0.8)
		if gap := tries[i].At.Sub(tries[i-1].At); gap < least {
			t.Errorf("retry %d came %v after the failure before it, want at least %v", i, gap, least)
		}
	}
	if st.Retries < 3 || st.PossibleDuplicates != 0 {
		t.Fatalf("stats %+v, want 3 retries and no possible duplicate (Telegram answered each failure)", st)
	}
}

// The API is down for ten minutes scaled 1:1000 (600 ms, with backoff from
// 1 ms up to 300 ms for 1 s up to 5 min): every message arrives once it is
// back, none twice.
func TestTelegramDownTenMinutesLosesNothingAndDoublesNothing(t *testing.T) {
	h := newHarness(t, func(o *Config) {
		o.BackoffBase, o.BackoffMax = time.Millisecond, 300*time.Millisecond
	})
	h.api.GoDown()
	for i := 1; i <= 5; i++ {
		n := notice(fmt.Sprintf("task-40/%d", i), created, 0, groupInstallers, groupProvisioning)
		n.Text = fmt.Sprintf("event %d", i)
		h.enqueue(n)
	}
	time.Sleep(600 * time.Millisecond)
	if got := len(h.api.Sent()); got != 0 {
		t.Fatalf("%d messages got through while the API was down", got)
	}
	if st := h.stats(); st.PendingMessages == 0 {
		t.Fatalf("nothing waits while the API is down: %+v", st)
	}
	h.comeBack()
	st := h.settled()
	for _, chat := range []int64{chatAnna, chatBoris, chatCarl, chatEgor, chatVera} {
		msgs := h.api.SentTo(chat)
		for i := 1; i <= 5; i++ {
			if got := countWith(msgs, fmt.Sprintf("event %d", i)); got != 1 {
				t.Errorf("chat %d got event %d %d times, want once", chat, i, got)
			}
		}
	}
	if st.Sent != 25 || st.PossibleDuplicates != 0 {
		t.Fatalf("stats %+v, want 25 sent and no possible duplicate", st)
	}
}

func TestDroppedAnswerYieldsAtMostOneCountedDuplicate(t *testing.T) {
	h := newHarness(t)
	h.api.FailSends(chatAnna, botapifake.Drop, 1, 0)
	n := notice("task-40/1", created, 0, groupInstallers)
	n.Text = "the dropped one"
	h.enqueue(n)
	st := h.settled()
	if got := countWith(h.api.SentTo(chatAnna), "the dropped one"); got != 2 {
		t.Fatalf("Anna has the message %d times, want 2 (one whose answer was lost, one resend)", got)
	}
	if got := countWith(h.api.SentTo(chatBoris), "the dropped one"); got != 1 {
		t.Fatalf("Boris has the message %d times, want 1", got)
	}
	if st.PossibleDuplicates != 1 {
		t.Fatalf("possible duplicates %d, want 1", st.PossibleDuplicates)
	}
	resp, err := h.client.GetDeliveryStats(servicetest.User(context.Background(), 6, servicetest.Viewer), &notifierv1.GetDeliveryStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetPossibleDuplicates() != 1 || !resp.GetBotEnabled() || resp.GetSentMessages() != st.Sent {
		t.Fatalf("GetDeliveryStats %v, want 1 possible duplicate, the bot on, %d sent", resp, st.Sent)
	}
}

func TestBlockedUserIsMarkedUnreachableAndNotRetried(t *testing.T) {
	h := newHarness(t)
	h.api.FailSends(chatAnna, botapifake.Blocked, -1, 0)
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	h.enqueue(notice("task-40/2", taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, 0, groupInstallers))
	st := h.settled()
	time.Sleep(200 * time.Millisecond)
	if tries := h.api.AttemptsTo(chatAnna); len(tries) != 1 {
		t.Fatalf("Anna's chat was tried %d times, want once", len(tries))
	}
	if calls := h.identity.unlinkCalls(); len(calls) != 1 || calls[0] != (unlinkCall{ChatID: chatAnna, Reason: "blocked"}) {
		t.Fatalf("unlink calls %+v, want chat %d marked blocked", calls, chatAnna)
	}
	// The second message is unreachable too, or skipped once identity
	// forgot the chat.
	if st.Unreachable+st.Skipped < 3 || st.Unreachable < 1 {
		t.Fatalf("stats %+v, want Anna's messages unreachable (and Dina's skipped)", st)
	}
	if got := len(h.api.SentTo(chatBoris)); got != 2 {
		t.Fatalf("Boris got %d messages, want 2", got)
	}
}

func TestRestartMidQueueLosesNothingAndDoublesNothing(t *testing.T) {
	h := newHarness(t, func(o *Config) { o.TelegramChatInterval = 50 * time.Millisecond })
	for i := 1; i <= 10; i++ {
		n := notice(fmt.Sprintf("task-40/%d", i), created, 0, groupInstallers)
		n.Text = fmt.Sprintf("event %d", i)
		h.enqueue(n)
	}
	eventually(t, 10*time.Second, func() bool { return len(h.api.SentTo(chatAnna)) >= 3 }, "a few messages go out")
	h.restart()
	st := h.settled()
	for _, chat := range []int64{chatAnna, chatBoris, chatVera} {
		msgs := h.api.SentTo(chat)
		for i := 1; i <= 10; i++ {
			if got := countWith(msgs, fmt.Sprintf("event %d</i>", i)); got != 1 {
				t.Errorf("chat %d got event %d %d times, want once", chat, i, got)
			}
		}
	}
	if st.Sent != 30 || st.PossibleDuplicates != 0 {
		t.Fatalf("stats %+v, want 30 sent, no possible duplicate", st)
	}
}

func TestDeliveryLeftSendingByACrashIsSentAgainAndCounted(t *testing.T) {
	h := newHarness(t)
	h.api.GoDown()
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	eventually(t, 10*time.Second, func() bool { return h.stats().PendingEvents == 0 }, "the event is expanded")
	h.stop()
	// A crash between asking Telegram and hearing back leaves this.
	db, err := OpenDB(context.Background(), h.common, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	res := db.Model(&deliveryRow{}).Where("chat_id = ?", chatAnna).Updates(map[string]any{"state": stateSending, "attempts": 1})
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("marking Anna's delivery as sending: %v (%d rows)", res.Error, res.RowsAffected)
	}
	sqlDB, _ := db.DB()
	sqlDB.Close()
	h.comeBack()
	h.start()
	st := h.settled()
	if got := len(h.api.SentTo(chatAnna)); got != 1 {
		t.Fatalf("Anna got %d messages, want 1", got)
	}
	// Anna's is a possible duplicate; so is any other send whose answer
	// the outage or the stop cut off (Telegram may have had it), which a
	// busy machine sometimes makes happen.
	if st.PossibleDuplicates < 1 || st.PossibleDuplicates > 3 || st.Sent != 3 {
		t.Fatalf("stats %+v, want 3 sent of which Anna's (and at most the other two) possible duplicates", st)
	}
}

func TestPerChatRateLimitIsRespected(t *testing.T) {
	h := newHarness(t, func(o *Config) { o.TelegramChatInterval = time.Second })
	for i := 1; i <= 3; i++ {
		h.enqueue(notice(fmt.Sprintf("task-40/%d", i), created, 0, groupInstallers))
	}
	h.settled()
	for _, chat := range []int64{chatAnna, chatBoris, chatVera} {
		msgs := h.api.SentTo(chat)
		if len(msgs) != 3 {
			t.Fatalf("chat %d got %d messages, want 3", chat, len(msgs))
		}
		for i := 1; i < len(msgs); i++ {
			// Measured where they arrive.
			if gap := msgs[i].At.Sub(msgs[i-1].At); gap < time.Second {
				t.Errorf("chat %d got two messages %v apart, want 1s or more", chat, gap)
			}
		}
	}
	// Different chats are not held to each other's pace.
	first := []time.Time{h.api.SentTo(chatAnna)[0].At, h.api.SentTo(chatBoris)[0].At, h.api.SentTo(chatVera)[0].At}
	for _, at := range first[1:] {
		if d := at.Sub(first[0]); d > 500*time.Millisecond || d < -500*time.Millisecond {
			t.Errorf("first messages to different chats %v apart; they should go together", d)
		}
	}
}

func TestIdentityDownDelaysNoticesButLosesNone(t *testing.T) {
	h := newHarness(t)
	h.identity.down.Store(true)
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	time.Sleep(300 * time.Millisecond)
	if st := h.stats(); st.PendingEvents != 1 {
		t.Fatalf("stats %+v, want the event waiting for identity", st)
	}
	h.identity.down.Store(false)
	h.settled()
	if got := len(h.api.SentTo(chatAnna)); got != 1 {
		t.Fatalf("Anna got %d messages, want 1", got)
	}
}

func TestNoBotConfiguredRecordsMessagesAsSkipped(t *testing.T) {
	h := newHarness(t, func(o *Config) { o.TelegramToken = "" })
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	st := h.settled()
	if st.Skipped != 4 || st.Sent != 0 {
		t.Fatalf("stats %+v, want all 4 installers skipped", st)
	}
	resp, err := h.client.GetDeliveryStats(servicetest.User(context.Background(), 6, servicetest.Viewer), &notifierv1.GetDeliveryStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetBotEnabled() || resp.GetSkippedMessages() != 4 {
		t.Fatalf("GetDeliveryStats %v, want the bot off and 4 skipped", resp)
	}
	if n := h.api.CallCount("getMe") + h.api.CallCount("getUpdates") + h.api.CallCount("sendMessage"); n != 0 {
		t.Fatalf("the Bot API was called %d times without a token", n)
	}
}

// notification enqueues a notice of task 40 in Diagnostics and returns
// the message Anna got.
func notification(h *harness, eventID string) botapifake.Message {
	h.t.Helper()
	before := len(h.api.SentTo(chatAnna))
	h.enqueue(notice(eventID, created, 0, groupInstallers))
	h.settled()
	msgs := h.api.SentTo(chatAnna)
	if len(msgs) != before+1 {
		h.t.Fatalf("Anna got %d new messages, want 1", len(msgs)-before)
	}
	return msgs[before]
}

func TestButtonsActAsTheUserAndStaleButtonsChangeNothing(t *testing.T) {
	h := newHarness(t)
	msg := notification(h, "task-40/1")

	a := h.press(chatAnna, msg, "t:40:101:take")
	if a.Text != "You took T-000040 (#40)." {
		t.Fatalf("take answered %q", a.Text)
	}
	calls := h.tasks.done()
	if len(calls) != 1 || calls[0].Method != "AssignTask" || calls[0].Caller.UserID != 1 || calls[0].Caller.Login != "anna" ||
		len(calls[0].Caller.Groups) != 1 || calls[0].Caller.Groups[0] != groupInstallers || calls[0].ProcessID != 101 {
		t.Fatalf("task calls %+v, want AssignTask on process 101 as Anna", calls)
	}
	if h.tasks.task(40).GetAssigneeId() != 1 {
		t.Fatal("the task is not Anna's")
	}
	eventually(t, 5*time.Second, func() bool { return len(h.api.EditsOf(chatAnna, msg.MessageID)) == 1 }, "the Take button is removed")
	if e := h.api.EditsOf(chatAnna, msg.MessageID)[0]; strings.Contains(e.Markup, ":take") || !strings.Contains(e.Markup, ":adv") {
		t.Fatalf("after taking, the keyboard is %s; want Complete and Return only", e.Markup)
	}

	a = h.press(chatAnna, msg, "t:40:101:adv")
	if a.Text != "Completed: T-000040 (#40) moved to «Provisioning»." {
		t.Fatalf("complete answered %q", a.Text)
	}
	if cur := h.tasks.task(40).GetCurrentProcess().GetId(); cur != 102 {
		t.Fatalf("the task is in process %d, want 102", cur)
	}

	stale := []struct {
		name string
		chat int64
		data string
		want string
	}{
		{"a button of a process the task left", chatAnna, "t:40:101:adv", "The task has moved on; nothing was changed."},
		{"return from a process the task left", chatAnna, "t:40:101:ret", "The task has moved on; nothing was changed."},
		{"a user outside the process's group", chatAnna, "t:40:102:adv", "You are not in the group of this process; nothing was changed."},
		{"a role that may not work on tasks", chatVera, "t:40:102:take", "Your role does not allow working on tasks."},
		{"a chat not linked", 4242, "t:40:102:adv", "Link your account first: /start CODE with a code from the console's profile page."},
		{"a button of nothing known", chatAnna, "x:1", "This button is not known."},
	}
	for _, tc := range stale {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.tasks.done())
			a := h.press(tc.chat, msg, tc.data)
			if a.Text != tc.want {
				t.Fatalf("answered %q, want %q", a.Text, tc.want)
			}
			if got := len(h.tasks.done()); got != before {
				t.Fatalf("the task service carried out %d commands", got-before)
			}
		})
	}

	h.tasks.update(40, func(t *taskv1.Task) { t.State = taskv1.TaskState_TASK_STATE_CLOSED })
	before := len(h.tasks.done())
	if a := h.press(chatCarl, msg, "t:40:102:adv"); a.Text != "The task is closed; nothing was changed." {
		t.Fatalf("a button of a closed task answered %q", a.Text)
	}
	if got := len(h.tasks.done()); got != before {
		t.Fatal("a closed task was changed")
	}
}

func TestReturnAsksForACommentAndReturnsWithItAsTheUser(t *testing.T) {
	h := newHarness(t)
	msg := notification(h, "task-40/1")
	h.tasks.update(40, func(t *taskv1.Task) { moveTo(t, 1) })
	// Carl (provisioning) is asked why, and replies.
	a := h.press(chatCarl, msg, "t:40:102:ret")
	if a.Text != "Write why, as a reply to my question." {
		t.Fatalf("return answered %q", a.Text)
	}
	var q botapifake.Message
	eventually(t, 5*time.Second, func() bool {
		for _, m := range h.api.SentTo(chatCarl) {
			if strings.Contains(m.Markup, `"force_reply":true`) {
				q = m
				return true
			}
		}
		return false
	}, "the bot asks for a comment")
	if !strings.Contains(q.Text, "Why return T-000040 (#40)?") {
		t.Fatalf("question %q", q.Text)
	}
	if got := len(h.tasks.done()); got != 0 {
		t.Fatalf("the task service carried out %d commands before the comment came", got)
	}
	got := h.say(chatCarl, "en", "No signal at the node", q.MessageID)
	if got.Text != "Returned: T-000040 (#40) is back in «Diagnostics»." {
		t.Fatalf("the return answered %q", got.Text)
	}
	calls := h.tasks.done()
	if len(calls) != 1 || calls[0].Method != "ReturnTask" || calls[0].Text != "No signal at the node" ||
		calls[0].Caller.UserID != 3 || calls[0].ProcessID != 102 {
		t.Fatalf("task calls %+v, want ReturnTask from 102 with the comment as Carl", calls)
	}
	// Answering the same question again finds the task moved on.
	got = h.say(chatCarl, "en", "again", q.MessageID)
	if !strings.Contains(got.Text, "Reply to a notification") && !strings.Contains(got.Text, "moved on") {
		t.Fatalf("a second answer to an answered question got %q", got.Text)
	}
	if len(h.tasks.done()) != 1 {
		t.Fatal("a second answer changed the task")
	}
}

func TestReplyToANotificationAddsACommentAsTheUser(t *testing.T) {
	h := newHarness(t)
	msg := notification(h, "task-40/1")
	got := h.say(chatAnna, "en", "On my way <eta 10 min>", msg.MessageID)
	if got.Text != "Comment added to T-000040 (#40)." || got.ReplyTo == 0 {
		t.Fatalf("the comment answered %q (reply to %d)", got.Text, got.ReplyTo)
	}
	calls := h.tasks.done()
	if len(calls) != 1 || calls[0].Method != "AddComment" || calls[0].TaskID != 40 || calls[0].Text != "On my way <eta 10 min>" || calls[0].Caller.UserID != 1 {
		t.Fatalf("task calls %+v, want Anna's comment on task 40", calls)
	}
	// A reply from a chat that is not linked changes nothing.
	got = h.say(4242, "en", "hello", msg.MessageID)
	if !strings.Contains(got.Text, "<code>/start CODE</code>") {
		t.Fatalf("an unlinked chat got %q", got.Text)
	}
	if len(h.tasks.done()) != 1 {
		t.Fatal("an unlinked chat's reply reached the task service")
	}
}

func TestTasksCommandListsTheOpenTasksOfTheUsersGroups(t *testing.T) {
	h := newHarness(t)
	got := h.say(chatAnna, "en", "/tasks", 0)
	if !strings.Contains(got.Text, `<a href="https://crm.example.test/tasks/40">T-000040 (#40)</a>`) || !strings.Contains(got.Text, "Diagnostics") {
		t.Fatalf("/tasks for Anna: %q", got.Text)
	}
	if strings.Contains(got.Text, "T-000041") {
		t.Fatalf("/tasks for Anna lists provisioning's task: %q", got.Text)
	}
	got = h.say(chatCarl, "en", "/tasks", 0)
	if !strings.Contains(got.Text, "T-000041") || strings.Contains(got.Text, "T-000040") {
		t.Fatalf("/tasks for Carl: %q", got.Text)
	}
	got = h.say(chatBoris, "ru", "/help", 0)
	if !strings.Contains(got.Text, "/tasks — открытые задачи") {
		t.Fatalf("/help for Boris: %q", got.Text)
	}
}

func TestForgedWebhookCallsAreRefusedAndChangeNothing(t *testing.T) {
	const secret = "hook-secret_0123456789abcdefghijklmnop"
	h := newHarness(t, func(o *Config) {
		o.WebhookURL = "https://crm.example.test/telegram/hook"
		o.WebhookSecret = secret
		o.WebhookListen = "127.0.0.1:0"
	})
	h.identity.mu.Lock()
	h.identity.codes["GOODCODE"] = &linkCode{UserID: 4}
	h.identity.mu.Unlock()
	eventually(t, 10*time.Second, func() bool { u, _ := h.api.Webhook(); return u != "" }, "the webhook is set")
	if u, s := h.api.Webhook(); u != "https://crm.example.test/telegram/hook" || s != secret {
		t.Fatalf("webhook set to %q with secret %q", u, s)
	}
	var addr string
	eventually(t, 5*time.Second, func() bool {
		if p := h.service().webhookAddr.Load(); p != nil {
			addr = *p
		}
		return addr != ""
	}, "the webhook listens")
	hook := "http://" + addr + urlPath("https://crm.example.test/telegram/hook")
	update := func() string {
		body, _ := jsonOf(botapifake.Text(2004, "en", "/start GOODCODE", 0)(1))
		return body
	}
	post := func(header string) int {
		req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(update()))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, forged := range []string{"", "wrong", secret + "x", strings.ToUpper(secret)} {
		if code := post(forged); code != http.StatusForbidden {
			t.Fatalf("a call with secret %q got %d, want 403", forged, code)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := h.identity.redeemCalls(); n != 0 || h.identity.user(4).ChatID != 0 {
		t.Fatalf("forged calls reached identity (%d redeem calls)", n)
	}
	if code := post(secret); code != http.StatusOK {
		t.Fatalf("Telegram's own call got %d, want 200", code)
	}
	eventually(t, 5*time.Second, func() bool { return h.identity.user(4).ChatID == 2004 }, "the genuine update links the chat")
	if n := h.api.CallCount("getUpdates"); n != 0 {
		t.Fatalf("getUpdates called %d times in webhook mode", n)
	}
}

func TestCallbackDataFitsTelegramsLimit(t *testing.T) {
	const maxID = int64(^uint64(0) >> 1)
	for _, act := range actions {
		d := callbackData(maxID, maxID, act)
		if len(d) > 64 {
			t.Fatalf("%q is %d bytes, over Telegram's 64", d, len(d))
		}
		task, proc, got, ok := parseCallback(d)
		if !ok || task != maxID || proc != maxID || got != act {
			t.Fatalf("parseCallback(%q) = %d %d %q %v", d, task, proc, got, ok)
		}
	}
	for _, bad := range []string{"", "t:1:2", "t:x:2:take", "t:1:2:delete", "t:-1:2:take", "u:1:2:take"} {
		if _, _, _, ok := parseCallback(bad); ok {
			t.Errorf("parseCallback(%q) accepted", bad)
		}
	}
}

func TestSendErrorsAreClassifiedByWhatTelegramMayHaveDone(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want outcome
	}{
		{nil, outcomeSent},
		{&errNotSent{err: fmt.Errorf("dial tcp: connection refused")}, outcomeRetry},
		{fmt.Errorf("telebot: %w", fmt.Errorf("EOF")), outcomeLost},
		{fmt.Errorf("telegram: Bad Gateway (502)"), outcomeRetry},
		{fmt.Errorf("telegram: Bad Request: chat not found (400)"), outcomeRejected},
	} {
		if got, _ := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestPurgeForgetsOldMessagesButKeepsTheirCounts(t *testing.T) {
	h := newHarness(t)
	h.api.FailSends(chatAnna, botapifake.Drop, 1, 0)
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	h.enqueue(notice("task-40/2", created, 0, groupInstallers))
	before := h.settled()
	n, err := h.service().store.purge(context.Background(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Fatalf("purged %d messages, want 8", n)
	}
	if after := h.stats(); after != before {
		t.Fatalf("figures after the purge %+v, before %+v", after, before)
	}
	var left int64
	h.service().store.db.Model(&deliveryRow{}).Count(&left)
	if left != 0 {
		t.Fatalf("%d messages left after the purge", left)
	}
	// New messages add to the kept counts.
	h.enqueue(notice("task-40/3", created, 0, groupInstallers))
	if st := h.settled(); st.Sent != before.Sent+3 {
		t.Fatalf("sent %d after the purge, want %d", st.Sent, before.Sent+3)
	}
}

func TestEveryEventKindReadsWellInBothLanguages(t *testing.T) {
	for k := range taskv1.TaskEventKind_name {
		kind := taskv1.TaskEventKind(k)
		for _, l := range []string{"en", "ru"} {
			t.Run(kind.String()+"/"+l, func(t *testing.T) {
				n := notice("e", kind, 2, groupInstallers)
				n.FromProcessName, n.Text, n.Resolution = "Intake <1>", "a & b", "customer_refused"
				if kind == taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED || kind == taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED {
					n.TaskState = taskv1.TaskState_TASK_STATE_CLOSED
				}
				if strings.Contains(kind.String(), "VISIT") {
					n.Visit = fixtureVisit()
				}
				text := render(n, l, testPublicURL, time.UTC)
				if strings.Contains(text, "%!") {
					t.Fatalf("a format went wrong: %s", text)
				}
				if err := botapifake.CheckHTML(text); err != nil {
					t.Fatalf("Telegram would refuse %q: %v", text, err)
				}
				head := strings.SplitN(text, "\n", 3)[1]
				if head == "<b></b>" || (l == "ru") != strings.ContainsAny(head, "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ") {
					t.Fatalf("headline %q is not in %s", head, l)
				}
			})
		}
	}
}

// syncBuffer is a log destination the test reads while the service writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBotTokenNeverReachesTheLogsOrTheTables(t *testing.T) {
	var logs syncBuffer
	h := newStoppedHarness(t)
	h.deps.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.start()
	h.api.GoDown()
	h.enqueue(notice("task-40/1", created, 0, groupInstallers))
	eventually(t, 10*time.Second, func() bool { return strings.Contains(logs.String(), "sending failed; will retry") }, "a failed send is logged")
	h.comeBack()
	h.settled()
	if !strings.Contains(logs.String(), tokenMask) {
		t.Fatalf("the failures logged name no address; the test proves nothing:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Fatalf("the bot token is in the log:\n%s", logs.String())
	}
	var leaks int64
	h.service().store.db.Model(&deliveryRow{}).Where("reason LIKE ?", "%"+testToken+"%").Count(&leaks)
	if leaks != 0 {
		t.Fatalf("%d deliveries keep the token in their reason", leaks)
	}
}

// Under a backlog for rate-limited chats, each new message for them must
// not send the sender through the queue: that was a scan of the backlog
// per task movement.
func TestNewMessagesForWaitingChatsDoNotMakeTheSenderScanTheQueue(t *testing.T) {
	h := newStoppedHarness(t, func(o *Config) { o.TelegramChatInterval, o.IdleWait = time.Hour, time.Hour })
	h.recording = true
	h.start()
	h.enqueue(notice("task-41/1", created, 0, groupProvisioning))
	eventually(t, 10*time.Second, func() bool { return h.api.SentCount() == 2 }, "Carl and Egor get the first message")
	eventually(t, 10*time.Second, func() bool { return h.stats().Sent == 2 }, "the first two sends are settled")
	h.taken()
	const more = 40
	for i := 2; i <= more+1; i++ {
		h.enqueue(notice(fmt.Sprintf("task-41/%d", i), created, 0, groupProvisioning))
	}
	eventually(t, 10*time.Second, func() bool { return h.stats().PendingEvents == 0 }, "every event is expanded")
	looks := 0
	for _, q := range h.taken() {
		if strings.Contains(q.SQL, "next_attempt_at") && strings.Contains(q.SQL, "deliveries") {
			looks++
		}
	}
	// The sender asks the queue only for chats it may send to now; both
	// must wait an hour, so no new message makes it look (one look per
	// message, 80 here, read the whole backlog before).
	if looks != 0 {
		t.Fatalf("the sender looked at the queue %d times for %d messages to chats that must wait", looks, 2*more)
	}
	if got := h.api.SentCount(); got != 2 {
		t.Fatalf("%d messages sent, want 2: the chats must wait an hour", got)
	}
}

func TestASwitchedOffWebhookIsToldToTheSupervisorsOnly(t *testing.T) {
	h := newHarness(t)
	n := &notifierv1.TaskNotice{
		EventId: "webhook-4/disabled/task-9/3", IncludeSupervisors: true,
		WebhookDisabled: &notifierv1.WebhookDisabled{WebhookId: 4, Name: "Billing <prod>", Failures: 5, Reason: "the webhook answered 503 Service Unavailable"},
	}
	if q := h.enqueue(n); q != 1 {
		t.Fatalf("queued %d, want 1", q)
	}
	if q := h.enqueue(n); q != 0 {
		t.Fatalf("the same notice again queued %d", q)
	}
	h.settled()
	got := textsTo(h.api.SentTo(chatSveta))
	if len(got) != 1 || !strings.Contains(got[0], "Webhook “Billing &lt;prod&gt;” switched off: 5 deliveries in a row failed.") ||
		!strings.Contains(got[0], "503 Service Unavailable") || !strings.Contains(got[0], "/settings/webhooks") {
		t.Fatalf("Sveta (supervisor) got %q", got)
	}
	for who, chat := range map[string]int64{"Anna": chatAnna, "Boris": chatBoris, "Carl": chatCarl, "Egor": chatEgor, "Vera": chatVera} {
		if n := len(h.api.SentTo(chat)); n != 0 {
			t.Errorf("%s, no supervisor, got %d messages", who, n)
		}
	}
}

func TestEscalationLevelsAreToldInWords(t *testing.T) {
	warn := &notifierv1.TaskNotice{EventId: "task-9/4", TaskId: 9, TaskNumber: "T-000009", Kind: taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_WARNING, ProcessName: "Field repair", Text: "80"}
	if got := render(warn, "en", "", time.UTC); !strings.Contains(got, "80% of the SLA used in Field repair") || strings.Contains(got, "Comment") {
		t.Fatalf("the warning reads %q", got)
	}
	esc := &notifierv1.TaskNotice{EventId: "task-9/6", TaskId: 9, TaskNumber: "T-000009", Kind: taskv1.TaskEventKind_TASK_EVENT_KIND_ESCALATED, ProcessName: "Выездной ремонт", Text: "priority,queue"}
	got := render(esc, "ru", "", time.UTC)
	for _, want := range []string{"Эскалация: SLA этапа «Выездной ремонт»", "Приоритет повышен.", "возвращена в очередь"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the escalation reads %q, want %q in it", got, want)
		}
	}
	if strings.Contains(got, "priority,queue") {
		t.Fatalf("the escalation shows its code: %q", got)
	}
}
