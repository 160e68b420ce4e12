package notifier

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBotAPI is a Telegram Bot API server on loopback speaking the real
// HTTP protocol (POST {url}/bot{token}/{method}, JSON or form bodies,
// {"ok":…} answers). It records what the bot did and can be told to fail
// the way Telegram fails: 429 with retry_after, 403 for a user who blocked
// the bot, 5xx, refusing connections for a while, or taking a message and
// losing the answer.
type fakeBotAPI struct {
	t     testing.TB
	token string
	addr  string

	mu            sync.Mutex
	srv           *http.Server
	down          bool
	nextMessageID int
	nextUpdateID  int
	updates       []json.RawMessage
	updateIDs     []int
	changed       chan struct{}
	sent          []sentMessage
	attempts      []sendAttempt
	answers       []callbackAnswer
	edits         []markupEdit
	faults        []*sendFault
	webhookURL    string
	webhookSecret string
	calls         map[string]int
}

// sentMessage is a message the fake accepted.
type sentMessage struct {
	ChatID    int64
	MessageID int
	Text      string
	ParseMode string
	Markup    string
	ReplyTo   int
	At        time.Time
}

// HasButtons tells whether the message came with an inline keyboard.
func (m sentMessage) HasButtons() bool { return strings.Contains(m.Markup, "inline_keyboard") }

// sendAttempt is a sendMessage call that reached the fake, whatever came
// of it.
type sendAttempt struct {
	ChatID int64
	At     time.Time
	Result string
}

type callbackAnswer struct {
	ID        string
	Text      string
	ShowAlert bool
}

type markupEdit struct {
	ChatID    int64
	MessageID int
	Markup    string
}

// sendFault makes sendMessage to a chat (0: any) fail times times (-1:
// always).
type sendFault struct {
	chatID     int64
	kind       string // "429", "403", "5xx", "drop"
	retryAfter int
	times      int
}

const fakeBotUsername = "crm_test_bot"

func newFakeBotAPI(t testing.TB, token string) *fakeBotAPI {
	t.Helper()
	f := &fakeBotAPI{t: t, token: token, changed: make(chan struct{}), calls: map[string]int{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = lis.Addr().String()
	f.serve(lis)
	t.Cleanup(func() {
		f.mu.Lock()
		srv := f.srv
		f.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
	})
	return f
}

func (f *fakeBotAPI) URL() string { return "http://" + f.addr }

func (f *fakeBotAPI) serve(lis net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(f.handle)}
	f.mu.Lock()
	f.srv, f.down = srv, false
	f.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// goDown stops answering: connections are refused until comeBack.
func (f *fakeBotAPI) goDown() {
	f.mu.Lock()
	srv := f.srv
	f.srv, f.down = nil, true
	f.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// comeBack listens again on the same address.
func (f *fakeBotAPI) comeBack() {
	var lis net.Listener
	var err error
	for range 100 {
		if lis, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatalf("fake Bot API cannot listen on %s again: %v", f.addr, err)
	}
	f.serve(lis)
}

// failSends makes the next times sends to chatID (0: any; times -1:
// always) fail as kind.
func (f *fakeBotAPI) failSends(chatID int64, kind string, times, retryAfter int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &sendFault{chatID: chatID, kind: kind, times: times, retryAfter: retryAfter})
}

func (f *fakeBotAPI) handle(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+f.token+"/")
	if !ok || r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeAPI(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	params, err := readParams(r)
	if err != nil {
		writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	f.mu.Lock()
	f.calls[method]++
	f.mu.Unlock()
	switch method {
	case "getMe":
		writeOK(w, map[string]any{"id": 777000, "is_bot": true, "first_name": "CRM", "username": fakeBotUsername})
	case "getUpdates":
		f.getUpdates(w, r, params)
	case "sendMessage":
		f.sendMessage(w, params)
	case "answerCallbackQuery":
		f.mu.Lock()
		f.answers = append(f.answers, callbackAnswer{ID: params["callback_query_id"], Text: params["text"], ShowAlert: params["show_alert"] == "true"})
		f.mu.Unlock()
		writeOK(w, true)
	case "editMessageReplyMarkup":
		chatID, _ := strconv.ParseInt(params["chat_id"], 10, 64)
		msgID, _ := strconv.Atoi(params["message_id"])
		f.mu.Lock()
		f.edits = append(f.edits, markupEdit{ChatID: chatID, MessageID: msgID, Markup: params["reply_markup"]})
		f.mu.Unlock()
		writeOK(w, map[string]any{"message_id": msgID, "date": time.Now().Unix(), "chat": map[string]any{"id": chatID, "type": "private"}})
	case "setWebhook":
		f.mu.Lock()
		f.webhookURL, f.webhookSecret = params["url"], params["secret_token"]
		f.mu.Unlock()
		writeOK(w, true)
	case "deleteWebhook":
		f.mu.Lock()
		f.webhookURL, f.webhookSecret = "", ""
		f.mu.Unlock()
		writeOK(w, true)
	default:
		writeAPI(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
	}
}

// readParams reads a Bot API call's parameters from a JSON, form or
// multipart body (and the query string), as strings.
func readParams(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		out[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if len(strings.TrimSpace(string(body))) == 0 || string(body) == "null\n" {
			return out, nil
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64:
				out[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				out[k] = strconv.FormatBool(v)
			case nil:
			default:
				b, _ := json.Marshal(v)
				out[k] = string(b)
			}
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
			return nil, err
		}
		for k, v := range r.Form {
			out[k] = v[0]
		}
	}
	return out, nil
}

func writeAPI(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func writeOK(w http.ResponseWriter, result any) {
	writeAPI(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func (f *fakeBotAPI) sendMessage(w http.ResponseWriter, p map[string]string) {
	chatID, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil || chatID == 0 {
		writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: chat_id is empty"})
		return
	}
	text := p["text"]
	if strings.TrimSpace(text) == "" {
		writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
		return
	}
	if p["parse_mode"] == "HTML" {
		if err := checkTelegramHTML(text); err != nil {
			writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: can't parse entities: " + err.Error()})
			return
		}
	}
	now := time.Now()
	f.mu.Lock()
	var fault *sendFault
	for _, fl := range f.faults {
		if fl.times != 0 && (fl.chatID == 0 || fl.chatID == chatID) {
			fault = fl
			if fl.times > 0 {
				fl.times--
			}
			break
		}
	}
	result := "sent"
	if fault != nil {
		result = fault.kind
	}
	f.attempts = append(f.attempts, sendAttempt{ChatID: chatID, At: now, Result: result})
	var msg sentMessage
	if fault == nil || fault.kind == "drop" {
		f.nextMessageID++
		replyTo, _ := strconv.Atoi(p["reply_to_message_id"])
		msg = sentMessage{ChatID: chatID, MessageID: f.nextMessageID, Text: text, ParseMode: p["parse_mode"], Markup: p["reply_markup"], ReplyTo: replyTo, At: now}
		f.sent = append(f.sent, msg)
	}
	f.mu.Unlock()
	switch result {
	case "429":
		writeAPI(w, http.StatusTooManyRequests, map[string]any{
			"ok": false, "error_code": 429,
			"description": fmt.Sprintf("Too Many Requests: retry after %d", fault.retryAfter),
			"parameters":  map[string]any{"retry_after": fault.retryAfter},
		})
	case "403":
		writeAPI(w, http.StatusForbidden, map[string]any{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
	case "5xx":
		writeAPI(w, http.StatusBadGateway, map[string]any{"ok": false, "error_code": 502, "description": "Bad Gateway"})
	case "drop":
		// Telegram took the message; the answer never arrives.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	default:
		writeOK(w, map[string]any{
			"message_id": msg.MessageID, "date": now.Unix(), "text": text,
			"chat": map[string]any{"id": chatID, "type": "private"},
			"from": map[string]any{"id": 777000, "is_bot": true, "first_name": "CRM", "username": fakeBotUsername},
		})
	}
}

// checkTelegramHTML accepts what Telegram's HTML parse mode accepts:
// known tags, and &, <, > only as entities.
func checkTelegramHTML(s string) error {
	allowed := map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true,
		"strike": true, "del": true, "a": true, "code": true, "pre": true, "blockquote": true, "tg-spoiler": true, "span": true}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return fmt.Errorf("unclosed start tag at byte offset %d", i)
			}
			name := strings.TrimPrefix(s[i+1:i+j], "/")
			if k := strings.IndexAny(name, " \t\n"); k >= 0 {
				name = name[:k]
			}
			if !allowed[name] {
				return fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
			}
			i += j
		case '>':
			return fmt.Errorf("unexpected > at byte offset %d", i)
		case '&':
			j := strings.IndexByte(s[i:], ';')
			if j < 0 || j > 10 {
				return fmt.Errorf("unescaped & at byte offset %d", i)
			}
			ent := s[i+1 : i+j]
			switch {
			case ent == "lt", ent == "gt", ent == "amp", ent == "quot":
			case strings.HasPrefix(ent, "#x"):
				if _, err := strconv.ParseUint(ent[2:], 16, 32); err != nil {
					return fmt.Errorf("bad entity &%s;", ent)
				}
			case strings.HasPrefix(ent, "#"):
				if _, err := strconv.ParseUint(ent[1:], 10, 32); err != nil {
					return fmt.Errorf("bad entity &%s;", ent)
				}
			default:
				return fmt.Errorf("unsupported entity &%s;", ent)
			}
			i += j
		}
	}
	return nil
}

func (f *fakeBotAPI) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	offset, _ := strconv.Atoi(p["offset"])
	timeout, _ := strconv.Atoi(p["timeout"])
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		if f.webhookURL != "" {
			f.mu.Unlock()
			writeAPI(w, http.StatusConflict, map[string]any{"ok": false, "error_code": 409, "description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
			return
		}
		// Updates before the offset are confirmed: forget them.
		for len(f.updateIDs) > 0 && offset > 0 && f.updateIDs[0] < offset {
			f.updateIDs, f.updates = f.updateIDs[1:], f.updates[1:]
		}
		if len(f.updates) > 0 {
			out := append([]json.RawMessage(nil), f.updates...)
			f.mu.Unlock()
			writeOK(w, out)
			return
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			writeOK(w, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

// push queues an update for getUpdates and returns its id.
func (f *fakeBotAPI) push(build func(id int) map[string]any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextUpdateID++
	id := f.nextUpdateID
	body, err := json.Marshal(build(id))
	if err != nil {
		f.t.Fatal(err)
	}
	f.updates = append(f.updates, body)
	f.updateIDs = append(f.updateIDs, id)
	close(f.changed)
	f.changed = make(chan struct{})
	return id
}

// tgUser is a Telegram user as updates carry it; a private chat has the
// user's id.
func tgUser(chatID int64, language string) map[string]any {
	return map[string]any{"id": chatID, "is_bot": false, "first_name": "User" + strconv.FormatInt(chatID, 10),
		"username": "user" + strconv.FormatInt(chatID, 10), "language_code": language}
}

func tgChat(chatID int64) map[string]any {
	return map[string]any{"id": chatID, "type": "private", "first_name": "User" + strconv.FormatInt(chatID, 10)}
}

// textUpdate is a message a user writes; replyTo (a message id) makes it a
// reply.
func textUpdate(chatID int64, language, text string, replyTo int) func(int) map[string]any {
	return func(id int) map[string]any {
		msg := map[string]any{"message_id": 100000 + id, "date": time.Now().Unix(), "chat": tgChat(chatID), "from": tgUser(chatID, language), "text": text}
		if strings.HasPrefix(text, "/") {
			end := strings.IndexByte(text, ' ')
			if end < 0 {
				end = len(text)
			}
			msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": end}}
		}
		if replyTo != 0 {
			msg["reply_to_message"] = map[string]any{"message_id": replyTo, "date": time.Now().Unix(), "chat": tgChat(chatID),
				"from": map[string]any{"id": 777000, "is_bot": true, "first_name": "CRM", "username": fakeBotUsername}, "text": "…"}
		}
		return map[string]any{"update_id": id, "message": msg}
	}
}

// callbackUpdate is a press of a button under the message msg.
func callbackUpdate(chatID int64, msg sentMessage, data string) func(int) map[string]any {
	return func(id int) map[string]any {
		m := map[string]any{"message_id": msg.MessageID, "date": msg.At.Unix(), "chat": tgChat(chatID), "text": msg.Text,
			"from": map[string]any{"id": 777000, "is_bot": true, "first_name": "CRM", "username": fakeBotUsername}}
		if msg.Markup != "" {
			m["reply_markup"] = json.RawMessage(msg.Markup)
		}
		return map[string]any{"update_id": id, "callback_query": map[string]any{
			"id": "cb" + strconv.Itoa(id), "from": tgUser(chatID, "en"), "message": m, "chat_instance": "ci", "data": data,
		}}
	}
}

// Views of what the fake recorded.

func (f *fakeBotAPI) sentTo(chatID int64) []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentMessage
	for _, m := range f.sent {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeBotAPI) allSent() []sentMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMessage(nil), f.sent...)
}

func (f *fakeBotAPI) attemptsTo(chatID int64) []sendAttempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sendAttempt
	for _, a := range f.attempts {
		if a.ChatID == chatID {
			out = append(out, a)
		}
	}
	return out
}

func (f *fakeBotAPI) answer(id string) (callbackAnswer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.answers {
		if a.ID == id {
			return a, true
		}
	}
	return callbackAnswer{}, false
}

func (f *fakeBotAPI) editsOf(chatID int64, messageID int) []markupEdit {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []markupEdit
	for _, e := range f.edits {
		if e.ChatID == chatID && e.MessageID == messageID {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeBotAPI) webhook() (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhookURL, f.webhookSecret
}

func (f *fakeBotAPI) callCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// urlPath is the path of a URL, for webhook checks.
func urlPath(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Path
}
