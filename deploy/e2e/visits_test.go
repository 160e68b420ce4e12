package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/stacktest"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

const (
	visitBotToken = "123456:e2e-visits"
	techChat      = int64(5550001)
)

// field is a stack with the Telegram bot on a fake Bot API and an
// installer whose chat is linked.
type field struct {
	*world
	tg         *botapifake.Server
	tech       *stacktest.Client
	techID     string
	visitGroup string
}

// tomorrowAt is hh:00 tomorrow in Moscow, the stack's time zone.
func tomorrowAt(hh int) time.Time {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	now := time.Now().In(msk)
	return time.Date(now.Year(), now.Month(), now.Day()+1, hh, 0, 0, 0, msk)
}

// remindIn sets the hour-before reminder so that it falls about d after
// now for a visit starting at start: a short real timer.
func remindIn(start time.Time, d time.Duration) string {
	return start.Sub(time.Now().Add(d)).Round(time.Second).String()
}

func newField(t *testing.T, remindBefore string, more ...stacktest.Option) *field {
	tg, err := botapifake.New(visitBotToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.Close)
	s := stacktest.Start(t, append([]stacktest.Option{
		stacktest.WithEnv("CRM_TELEGRAM_TOKEN", visitBotToken),
		stacktest.WithEnv("CRM_TELEGRAM_API_URL", tg.URL()),
		stacktest.WithEnv("CRM_TELEGRAM_BOT_USERNAME", botapifake.BotUsername),
		stacktest.WithEnv("CRM_TELEGRAM_CHAT_INTERVAL", "10ms"),
		stacktest.WithEnv("CRM_TIME_ZONE", "Europe/Moscow"),
		stacktest.WithEnv("CRM_VISIT_REMIND_EVENING", "00:00"),
		stacktest.WithEnv("CRM_VISIT_REMIND_BEFORE", remindBefore),
	}, more...)...)
	f := &field{world: &world{t: t, s: s, admin: s.Admin(t), phone: 3000000}, tg: tg}

	var r struct {
		Processes []struct {
			GroupID string `json:"groupId"`
			Visit   bool   `json:"visit"`
		} `json:"processes"`
	}
	f.admin.Must(http.MethodGet, "/api/v1/routes/1", nil, &r)
	for _, p := range r.Processes {
		if p.Visit {
			f.visitGroup = p.GroupID
		}
	}
	if f.visitGroup == "" {
		t.Fatal("route No. 1 has no process requiring a visit")
	}
	// the group works every day, so the test books whatever day it runs
	f.admin.Must(http.MethodPut, "/api/v1/groups/"+f.visitGroup+"/schedule", map[string]any{
		"timeZone": "Europe/Moscow", "hours": map[string]any{"startMinute": 8 * 60, "endMinute": 20 * 60, "weekdays": []int{1, 2, 3, 4, 5, 6, 7}},
	}, nil)

	var u struct{ ID string }
	f.admin.Must(http.MethodPost, "/api/v1/users", map[string]any{"login": "installer", "displayName": "Ivan Installer", "password": "installer-password-1", "roles": []string{"engineer"}, "language": "en"}, &u)
	f.techID = u.ID
	f.admin.Must(http.MethodPost, "/api/v1/groups/"+f.visitGroup+"/members", map[string]any{"userId": u.ID}, nil)
	f.tech = s.Login(t, "installer", "installer-password-1")
	var code struct{ Code string }
	f.tech.Must(http.MethodPost, "/api/v1/telegram:link", map[string]any{}, &code)
	tg.Push(botapifake.Text(techChat, "en", "/start "+code.Code, 0))
	f.until("the installer's chat is linked", func() bool {
		var me struct{ TelegramLinked bool }
		f.tech.Must(http.MethodGet, "/api/v1/auth/me", nil, &me)
		return me.TelegramLinked
	})
	return f
}

// until waits up to 30 s for ok.
func (f *field) until(what string, ok func() bool) {
	f.t.Helper()
	f.within(30*time.Second, what, ok)
}

func (f *field) within(d time.Duration, what string, ok func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			f.t.Fatalf("no %s after %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// message waits for a message to the installer's chat, after the first
// skip, whose text holds every one of words.
func (f *field) message(skip int, words ...string) (botapifake.Message, int) {
	f.t.Helper()
	return f.messageWithin(30*time.Second, skip, words...)
}

func (f *field) messageWithin(d time.Duration, skip int, words ...string) (botapifake.Message, int) {
	f.t.Helper()
	var found botapifake.Message
	at := -1
	f.within(d, fmt.Sprintf("message holding %q", words), func() bool {
		sent := f.tg.SentTo(techChat)
		for i := skip; i < len(sent); i++ {
			if holdsAll(sent[i].Text, words) {
				found, at = sent[i], i
				return true
			}
		}
		return false
	})
	return found, at
}

func holdsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// press pushes the press of the button of msg whose label holds label.
func (f *field) press(msg botapifake.Message, label string) {
	f.t.Helper()
	var kb struct {
		InlineKeyboard [][]struct {
			Text         string `json:"text"`
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(msg.Markup), &kb); err != nil {
		f.t.Fatalf("message %d's keyboard %q: %v", msg.MessageID, msg.Markup, err)
	}
	var labels []string
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if strings.Contains(b.Text, label) && b.CallbackData != "" {
				id := f.tg.Push(botapifake.Callback(techChat, msg, b.CallbackData))
				// the bot answers a press once it has done (or asked) what
				// the press meant
				f.until("the press answered", func() bool {
					_, ok := f.tg.Answer(fmt.Sprintf("cb%d", id))
					return ok
				})
				return
			}
			labels = append(labels, b.Text)
		}
	}
	f.t.Fatalf("no button %q under message %d: %q", label, msg.MessageID, labels)
}

type visit struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	TaskNumber string `json:"taskNumber"`
	StartTime  string `json:"startTime"`
}

func (f *field) awaitVisit(taskID, state string) {
	f.t.Helper()
	f.until("visit "+state, func() bool {
		resp := f.admin.Do(http.MethodGet, "/api/v1/tasks/"+taskID+"/visit", nil)
		return resp.Status == http.StatusOK && resp.Body["state"] == state
	})
}

func photo(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestAVisitIsBookedRemindedAndRunFromTelegram(t *testing.T) {
	t.Parallel()
	start, end := tomorrowAt(10), tomorrowAt(12)
	// The deployables are compiled first: on a cold build cache that takes
	// minutes, and a reminder already due at booking is not sent.
	if _, err := stacktest.Binaries(); err != nil {
		t.Fatal(err)
	}
	// the hour-before reminder fires for real about 75 s from now
	f := newField(t, remindIn(start, 75*time.Second))

	_, tk := f.contract()
	for !f.task(f.admin, tk.ID).CurrentProcess.Visit {
		f.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &tk)
		if tk.State != "TASK_STATE_OPEN" {
			t.Fatalf("the connection task left route No. 1 without a visit: %+v", tk)
		}
		tk = f.task(f.admin, tk.ID)
	}

	var booked visit
	f.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":bookVisit", map[string]any{
		"processId": tk.CurrentProcess.ID, "startTime": start.Format(time.RFC3339), "endTime": end.Format(time.RFC3339),
		"technicianIds": []string{f.techID}, "note": "call before coming",
	}, &booked)
	if booked.State != "VISIT_STATE_BOOKED" || booked.TaskNumber != tk.Number {
		t.Fatalf("booked %+v", booked)
	}
	// the same technician in an overlapping window on another task: 409
	_, other := f.contract()
	for !f.task(f.admin, other.ID).CurrentProcess.Visit {
		f.admin.Must(http.MethodPost, "/api/v1/tasks/"+other.ID+":advance", map[string]any{"processId": other.CurrentProcess.ID}, &other)
	}
	clash := f.admin.Do(http.MethodPost, "/api/v1/tasks/"+other.ID+":bookVisit", map[string]any{
		"startTime": tomorrowAt(11).Format(time.RFC3339), "endTime": tomorrowAt(13).Format(time.RFC3339), "technicianIds": []string{f.techID},
	})
	if clash.Status != http.StatusConflict || !strings.Contains(string(clash.Raw), tk.Number) {
		t.Fatalf("an overlapping booking: %d %s, want 409 naming %s", clash.Status, clash.Raw, tk.Number)
	}

	notice, _ := f.message(0, tk.Number, "10:00")
	f.tg.Push(botapifake.Text(techChat, "en", "/tomorrow", 0))
	day, at := f.message(0, tk.Number, "10:00", "12:00", "Tverskaya 1")
	if day.MessageID == notice.MessageID {
		day, _ = f.message(at+1, tk.Number, "10:00", "12:00", "Tverskaya 1")
	}
	f.tg.Push(botapifake.Text(techChat, "en", "/today", 0))

	// the reminder, on a real durable timer
	f.messageWithin(2*time.Minute, 0, tk.Number, "Reminder")

	f.press(day, "On my way")
	f.awaitVisit(tk.ID, "VISIT_STATE_ON_THE_WAY")
	f.press(day, "Arrived")
	f.awaitVisit(tk.ID, "VISIT_STATE_ARRIVED")

	// a photo replied to the booking's message lands on the task
	// (Telegram hands a bot every photo as a JPEG)
	fileID := f.tg.AddFile(photo(t), 0, ".jpg")
	f.tg.Push(botapifake.Photo(techChat, "en", fileID, 0, "the socket installed", notice.MessageID))
	var atts struct {
		Attachments []struct {
			ID          string `json:"id"`
			ContentType string `json:"contentType"`
		} `json:"attachments"`
	}
	f.until("the photo on the task", func() bool {
		f.admin.Must(http.MethodGet, "/api/v1/tasks/"+tk.ID+"/attachments", nil, &atts)
		return len(atts.Attachments) == 1
	})
	if atts.Attachments[0].ContentType != "image/jpeg" {
		t.Fatalf("attachment %+v", atts.Attachments[0])
	}
	if got := f.admin.Do(http.MethodGet, "/api/v1/attachments/"+atts.Attachments[0].ID, nil); got.Status != http.StatusOK || !bytes.HasPrefix(got.Raw, []byte("\xff\xd8\xff")) {
		t.Fatalf("an operator's download: %d", got.Status)
	}
	var nobody struct{ ID string }
	f.admin.Must(http.MethodPost, "/api/v1/users", map[string]any{"login": "noroles", "displayName": "No roles", "password": "no-roles-password-1", "roles": []string{}}, &nobody)
	if got := f.s.Login(t, "noroles", "no-roles-password-1").Do(http.MethodGet, "/api/v1/attachments/"+atts.Attachments[0].ID, nil); got.Status != http.StatusNotFound {
		// one who may not read tasks learns nothing of which files exist
		t.Fatalf("a download without tasks.read: %d, want 404", got.Status)
	}

	// Done asks what was done, and completes Installation with the answer
	before := len(f.tg.SentTo(techChat))
	f.press(day, "Done")
	var question botapifake.Message
	f.until("the bot's question", func() bool {
		sent := f.tg.SentTo(techChat)
		if len(sent) == before {
			return false
		}
		question = sent[len(sent)-1]
		return true
	})
	f.tg.Push(botapifake.Text(techChat, "en", "socket installed, signal fine", question.MessageID))
	f.until("the task past Installation", func() bool {
		return f.task(f.admin, tk.ID).CurrentProcess.ID != tk.CurrentProcess.ID
	})
	v := f.admin.Do(http.MethodGet, "/api/v1/tasks/"+tk.ID+"/visit", nil)
	if v.Status != http.StatusNotFound {
		t.Fatalf("the done visit is still active: %d %s", v.Status, v.Raw)
	}
	// The timeline shows a step once its workflow has recorded it, which
	// may come a moment after the task's new process is seen.
	var kinds map[string]bool
	var completed string
	f.until("the step completing Installation on the timeline", func() bool {
		kinds, completed = map[string]bool{}, ""
		for _, e := range f.events(tk.ID) {
			if e.Kind == "TASK_EVENT_KIND_ADVANCED" && kinds["TASK_EVENT_KIND_VISIT_ARRIVED"] && completed == "" {
				completed = e.Text
			}
			kinds[e.Kind] = true
		}
		return completed != ""
	})
	if !strings.Contains(completed, "signal fine") {
		t.Errorf("the step completing Installation says %q, want the installer's answer", completed)
	}
	for _, k := range []string{"VISIT_BOOKED", "VISIT_REMINDED", "VISIT_ON_THE_WAY", "VISIT_ARRIVED"} {
		if !kinds["TASK_EVENT_KIND_"+k] {
			t.Errorf("no %s on the timeline: %v", k, kinds)
		}
	}
}
