package notifier

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

const hookSecret = "hook-secret_0123456789abcdefghijklmnop"

func TestWebhookSecretShorterThan32CharactersIsRefusedAtStart(t *testing.T) {
	cfg := fastConfig("http://127.0.0.1:1")
	cfg.WebhookURL = "https://crm.example.test/telegram/hook"
	cfg.WebhookListen = "127.0.0.1:0"
	for _, secret := range []string{"", "short-secret", strings.Repeat("a", 31), strings.Repeat("a", 32) + "!"} {
		cfg.WebhookSecret = secret
		err := cfg.check()
		if err == nil || !strings.Contains(err.Error(), "CRM_TELEGRAM_WEBHOOK_SECRET") || !strings.Contains(err.Error(), "32") {
			t.Fatalf("secret %q: got %v, want a refusal naming CRM_TELEGRAM_WEBHOOK_SECRET and 32", secret, err)
		}
	}
	cfg.WebhookSecret = strings.Repeat("a", 32)
	if err := cfg.check(); err != nil {
		t.Fatalf("a 32-character secret is refused: %v", err)
	}
}

func TestLinkCodesTriedTooOftenGetAnAnswerToWait(t *testing.T) {
	h := newHarness(t)
	const chat = 2006
	for i := range 5 {
		got := h.say(chat, "en", fmt.Sprintf("/start NOPE%04d", i), 0)
		if !strings.Contains(got.Text, "This code is unknown") {
			t.Fatalf("try %d answered %q", i+1, got.Text)
		}
	}
	got := h.say(chat, "en", "/start NOPE9999", 0)
	if !strings.Contains(got.Text, "Wait 10 min") {
		t.Fatalf("a sixth try answered %q, want it told to wait 10 min", got.Text)
	}
}

func TestUpdateDeliveredTwiceByPollingIsHandledOnce(t *testing.T) {
	h := newHarness(t)
	const chat = 2007
	id := h.api.Push(botapifake.Text(chat, "en", "/help", 0))
	eventually(t, 10*time.Second, func() bool { return len(h.api.SentTo(chat)) == 1 }, "the bot answers /help")
	// Telegram hands the same update out again (its offset was not
	// confirmed), then a new one.
	h.api.Push(func(int) map[string]any { return botapifake.Text(chat, "en", "/help", 0)(id) })
	h.api.Push(botapifake.Text(chat, "en", "/help", 0))
	eventually(t, 10*time.Second, func() bool { return len(h.api.SentTo(chat)) >= 2 }, "the bot answers the new /help")
	time.Sleep(200 * time.Millisecond)
	if n := len(h.api.SentTo(chat)); n != 2 {
		t.Fatalf("%d answers to two distinct updates, one delivered twice; want 2", n)
	}
}

// webhook starts a harness in webhook mode and returns a function that
// posts a body as Telegram would, answering the status code.
func webhook(t *testing.T, h *harness) func(body string) int {
	t.Helper()
	var addr string
	eventually(t, 10*time.Second, func() bool {
		if p := h.service().webhookAddr.Load(); p != nil {
			addr = *p
		}
		return addr != ""
	}, "the webhook listens")
	return func(body string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/telegram/hook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hookSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
}

func webhookMode(o *Config) {
	o.WebhookURL = "https://crm.example.test/telegram/hook"
	o.WebhookSecret = hookSecret
	o.WebhookListen = "127.0.0.1:0"
}

func TestWebhookUpdateIsAcknowledgedOnlyOnceRecordedAndHandledOnce(t *testing.T) {
	h := newHarness(t, webhookMode)
	post := webhook(t, h)
	h.identity.mu.Lock()
	h.identity.codes["GOODCODE"] = &linkCode{UserID: 4}
	h.identity.mu.Unlock()
	update, _ := jsonOf(botapifake.Text(2004, "en", "/start GOODCODE", 0)(501))
	for i := range 2 {
		if code := post(update); code != http.StatusOK {
			t.Fatalf("delivery %d got %d, want 200", i+1, code)
		}
	}
	eventually(t, 5*time.Second, func() bool { return h.identity.user(4).ChatID == 2004 }, "the update links the chat")
	time.Sleep(200 * time.Millisecond)
	if n := h.identity.redeemCalls(); n != 1 {
		t.Fatalf("an update delivered twice was handled %d times", n)
	}
	if n := len(h.api.SentTo(2004)); n != 1 {
		t.Fatalf("%d answers in the chat, want 1", n)
	}
	// The store refuses the record: Telegram is told to send it again.
	if err := h.service().store.db.Exec("DROP TABLE telegram_updates").Error; err != nil {
		t.Fatal(err)
	}
	other, _ := jsonOf(botapifake.Text(2005, "en", "/help", 0)(502))
	if code := post(other); code != http.StatusInternalServerError {
		t.Fatalf("an update that could not be recorded got %d, want 500", code)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.api.SentTo(2005)); n != 0 {
		t.Fatal("an update that was not recorded was handled")
	}
}

func TestUpdateRecordedBeforeACrashIsHandledAtTheNextStart(t *testing.T) {
	h := newStoppedHarness(t, webhookMode)
	h.identity.mu.Lock()
	h.identity.codes["GOODCODE"] = &linkCode{UserID: 4}
	h.identity.mu.Unlock()
	// The last run recorded the update (and answered Telegram 200), then
	// stopped before handling it.
	db, err := OpenDB(context.Background(), h.common, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jsonOf(botapifake.Text(2004, "en", "/start GOODCODE", 0)(601))
	st := &store{db: db, now: time.Now}
	if fresh, err := st.recordUpdate(context.Background(), 601, []byte(raw)); err != nil || !fresh {
		t.Fatalf("record: %v %v", fresh, err)
	}
	database.Close(db)
	h.start()
	eventually(t, 10*time.Second, func() bool { return h.identity.user(4).ChatID == 2004 }, "the update left from the last run links the chat")
	// Handled now: the next start leaves it alone.
	eventually(t, 5*time.Second, func() bool {
		var handled int64
		h.service().store.db.Model(&updateRow{}).Where("update_id = ? AND handled_at > 0", 601).Count(&handled)
		return handled == 1
	}, "the update is marked handled")
	h.restart()
	time.Sleep(300 * time.Millisecond)
	if n := h.identity.redeemCalls(); n != 1 {
		t.Fatalf("the update was handled %d times over two starts", n)
	}
}

func TestRecordedUpdatesAreForgottenAfterTwoDays(t *testing.T) {
	db := servicetest.OpenDB(t, servicetest.Common(t), Name, migrations)
	now := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	st := &store{db: db, now: func() time.Time { return now }}
	ctx := context.Background()
	for id, age := range map[int64]time.Duration{1: updateMemory + time.Hour, 2: updateMemory - time.Hour} {
		st.now = func() time.Time { return now.Add(-age) }
		if _, err := st.recordUpdate(ctx, id, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	st.now = func() time.Time { return now }
	if err := st.purgeUpdates(ctx, now.Add(-updateMemory)); err != nil {
		t.Fatal(err)
	}
	var left []int64
	db.Model(&updateRow{}).Order("update_id").Pluck("update_id", &left)
	if len(left) != 1 || left[0] != 2 {
		t.Fatalf("updates left %v, want only the one inside the two days", left)
	}
}
