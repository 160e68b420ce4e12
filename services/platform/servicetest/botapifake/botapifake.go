// Package botapifake is a Telegram Bot API server on loopback that speaks
// the real HTTP protocol (POST {url}/bot{token}/{method}, JSON, form or
// multipart bodies, {"ok":…} answers). It records what a bot did and can be
// told to fail the way Telegram fails: 429 with retry_after, 403 for a user
// who blocked the bot, 5xx, refusing connections for a while, or taking a
// message and losing the answer.
//
// The notifier's tests and the fault drills use it; it needs nothing but
// the standard library.
package botapifake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BotID and BotUsername are the bot the fake plays.
const (
	BotID       = 777000
	BotUsername = "crm_test_bot"
)

// Fault is a way sendMessage can fail.
type Fault string

const (
	// Flood answers 429 with retry_after.
	Flood Fault = "429"
	// Blocked answers 403: the user blocked the bot.
	Blocked Fault = "403"
	// ServerError answers 502.
	ServerError Fault = "5xx"
	// Drop takes the message and closes the connection without an answer.
	Drop Fault = "drop"
)

// ResultSent is an Attempt's result when the message was taken and
// answered.
const ResultSent = "sent"

// Message is a message the fake accepted (a dropped answer included: the
// fake holds the message all the same).
type Message struct {
	ChatID    int64
	MessageID int
	Text      string
	ParseMode string
	Markup    string
	ReplyTo   int
	At        time.Time
}

// HasButtons tells whether the message came with an inline keyboard.
func (m Message) HasButtons() bool { return strings.Contains(m.Markup, "inline_keyboard") }

// Attempt is a sendMessage call that reached the fake, whatever came of
// it: ResultSent or the Fault's name.
type Attempt struct {
	ChatID int64
	At     time.Time
	Result string
}

// CallbackAnswer is an answerCallbackQuery call.
type CallbackAnswer struct {
	ID        string
	Text      string
	ShowAlert bool
}

// MarkupEdit is an editMessageReplyMarkup or editMessageText call.
type MarkupEdit struct {
	ChatID    int64
	MessageID int
	Markup    string
	// Text is the message's new text (editMessageText); empty when only
	// the keyboard changed.
	Text string
}

// sendFault makes sendMessage to a chat (0: any) fail times times (-1:
// always).
type sendFault struct {
	chatID     int64
	kind       Fault
	retryAfter int
	times      int
}

// Server is a running fake Bot API.
type Server struct {
	token string
	addr  string

	mu            sync.Mutex
	srv           *http.Server
	closed        bool
	nextMessageID int
	nextUpdateID  int
	updates       []json.RawMessage
	updateIDs     []int
	changed       chan struct{}
	sent          []Message
	attempts      []Attempt
	answers       []CallbackAnswer
	edits         []MarkupEdit
	faults        []*sendFault
	webhookURL    string
	webhookSecret string
	calls         map[string]int
	files         map[string]storedFile
}

// New starts a fake for the bot token on a free loopback port.
func New(token string) (*Server, error) { return Listen("127.0.0.1:0", token) }

// Listen starts a fake for the bot token on addr.
func Listen(addr, token string) (*Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the fake Bot API cannot listen on %s: %w", addr, err)
	}
	s := &Server{token: token, addr: lis.Addr().String(), changed: make(chan struct{}), calls: map[string]int{}}
	s.serve(lis)
	return s, nil
}

// URL is the Bot API base URL to give the bot (CRM_TELEGRAM_API_URL).
func (s *Server) URL() string { return "http://" + s.addr }

// Addr is where the fake listens.
func (s *Server) Addr() string { return s.addr }

func (s *Server) serve(lis net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(s.handle)}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// Close stops the fake for good.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.closed = nil, true
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// GoDown stops answering: connections are refused (and those open are
// cut) until ComeBack.
func (s *Server) GoDown() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Down tells whether the fake refuses connections now.
func (s *Server) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv == nil
}

// ComeBack listens again on the same address.
func (s *Server) ComeBack() error {
	s.mu.Lock()
	closed, up := s.closed, s.srv != nil
	s.mu.Unlock()
	if closed {
		return errors.New("the fake Bot API is closed")
	}
	if up {
		return nil
	}
	var lis net.Listener
	var err error
	for range 200 {
		if lis, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("the fake Bot API cannot listen on %s again: %w", s.addr, err)
	}
	s.serve(lis)
	return nil
}

// FailSends makes the next times sends to chatID (0: any; times -1:
// always) fail as kind; retryAfter is the seconds a Flood asks to wait.
func (s *Server) FailSends(chatID int64, kind Fault, times, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &sendFault{chatID: chatID, kind: kind, times: times, retryAfter: retryAfter})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if filePath, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+s.token+"/"); ok {
		s.serveFile(w, r, filePath)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+s.token+"/")
	if !ok || r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeAPI(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	params, err := readParams(r)
	if err != nil {
		writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	switch method {
	case "getMe":
		writeOK(w, botUser())
	case "getUpdates":
		s.getUpdates(w, r, params)
	case "sendMessage":
		s.sendMessage(w, params)
	case "answerCallbackQuery":
		s.mu.Lock()
		s.answers = append(s.answers, CallbackAnswer{ID: params["callback_query_id"], Text: params["text"], ShowAlert: params["show_alert"] == "true"})
		s.mu.Unlock()
		writeOK(w, true)
	case "editMessageReplyMarkup", "editMessageText":
		chatID, _ := strconv.ParseInt(params["chat_id"], 10, 64)
		msgID, _ := strconv.Atoi(params["message_id"])
		s.mu.Lock()
		s.edits = append(s.edits, MarkupEdit{ChatID: chatID, MessageID: msgID, Markup: params["reply_markup"], Text: params["text"]})
		s.mu.Unlock()
		writeOK(w, map[string]any{"message_id": msgID, "date": time.Now().Unix(), "chat": map[string]any{"id": chatID, "type": "private"}})
	case "setWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookSecret = params["url"], params["secret_token"]
		s.mu.Unlock()
		writeOK(w, true)
	case "getFile":
		s.getFile(w, params)
	case "deleteWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookSecret = "", ""
		s.mu.Unlock()
		writeOK(w, true)
	default:
		writeAPI(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
	}
}

func botUser() map[string]any {
	return map[string]any{"id": BotID, "is_bot": true, "first_name": "CRM", "username": BotUsername}
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

func (s *Server) sendMessage(w http.ResponseWriter, p map[string]string) {
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
		if err := CheckHTML(text); err != nil {
			writeAPI(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: can't parse entities: " + err.Error()})
			return
		}
	}
	now := time.Now()
	s.mu.Lock()
	var fault *sendFault
	for _, f := range s.faults {
		if f.times != 0 && (f.chatID == 0 || f.chatID == chatID) {
			fault = f
			if f.times > 0 {
				f.times--
			}
			break
		}
	}
	result := ResultSent
	if fault != nil {
		result = string(fault.kind)
	}
	s.attempts = append(s.attempts, Attempt{ChatID: chatID, At: now, Result: result})
	var msg Message
	if fault == nil || fault.kind == Drop {
		s.nextMessageID++
		replyTo, _ := strconv.Atoi(p["reply_to_message_id"])
		msg = Message{ChatID: chatID, MessageID: s.nextMessageID, Text: text, ParseMode: p["parse_mode"], Markup: p["reply_markup"], ReplyTo: replyTo, At: now}
		s.sent = append(s.sent, msg)
	}
	s.mu.Unlock()
	switch result {
	case string(Flood):
		writeAPI(w, http.StatusTooManyRequests, map[string]any{
			"ok": false, "error_code": 429,
			"description": fmt.Sprintf("Too Many Requests: retry after %d", fault.retryAfter),
			"parameters":  map[string]any{"retry_after": fault.retryAfter},
		})
	case string(Blocked):
		writeAPI(w, http.StatusForbidden, map[string]any{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
	case string(ServerError):
		writeAPI(w, http.StatusBadGateway, map[string]any{"ok": false, "error_code": 502, "description": "Bad Gateway"})
	case string(Drop):
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
			"from": botUser(),
		})
	}
}

// CheckHTML accepts what Telegram's HTML parse mode accepts: known tags,
// and &, <, > only as entities.
func CheckHTML(s string) error {
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

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	offset, _ := strconv.Atoi(p["offset"])
	timeout, _ := strconv.Atoi(p["timeout"])
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.webhookURL != "" {
			s.mu.Unlock()
			writeAPI(w, http.StatusConflict, map[string]any{"ok": false, "error_code": 409, "description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
			return
		}
		// Updates before the offset are confirmed: forget them.
		for len(s.updateIDs) > 0 && offset > 0 && s.updateIDs[0] < offset {
			s.updateIDs, s.updates = s.updateIDs[1:], s.updates[1:]
		}
		if len(s.updates) > 0 {
			out := append([]json.RawMessage(nil), s.updates...)
			s.mu.Unlock()
			writeOK(w, out)
			return
		}
		changed := s.changed
		s.mu.Unlock()
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

// Push queues an update for getUpdates; build gets the update's id and
// returns the update (Text and Callback build the usual ones). It returns
// the id.
func (s *Server) Push(build func(id int) map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdateID++
	id := s.nextUpdateID
	body, err := json.Marshal(build(id))
	if err != nil {
		panic(fmt.Sprintf("botapifake: an update that is not JSON: %v", err))
	}
	s.updates = append(s.updates, body)
	s.updateIDs = append(s.updateIDs, id)
	close(s.changed)
	s.changed = make(chan struct{})
	return id
}

// User is a Telegram user as updates carry it; a private chat has the
// user's id.
func User(chatID int64, language string) map[string]any {
	return map[string]any{"id": chatID, "is_bot": false, "first_name": "User" + strconv.FormatInt(chatID, 10),
		"username": "user" + strconv.FormatInt(chatID, 10), "language_code": language}
}

// Chat is a private chat.
func Chat(chatID int64) map[string]any {
	return map[string]any{"id": chatID, "type": "private", "first_name": "User" + strconv.FormatInt(chatID, 10)}
}

// Text is a message a user writes in their chat; replyTo (a message id)
// makes it a reply. A leading /command is marked as one.
func Text(chatID int64, language, text string, replyTo int) func(int) map[string]any {
	return func(id int) map[string]any {
		msg := map[string]any{"message_id": 100000 + id, "date": time.Now().Unix(), "chat": Chat(chatID), "from": User(chatID, language), "text": text}
		if strings.HasPrefix(text, "/") {
			end := strings.IndexByte(text, ' ')
			if end < 0 {
				end = len(text)
			}
			msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": end}}
		}
		if replyTo != 0 {
			msg["reply_to_message"] = map[string]any{"message_id": replyTo, "date": time.Now().Unix(), "chat": Chat(chatID),
				"from": botUser(), "text": "…"}
		}
		return map[string]any{"update_id": id, "message": msg}
	}
}

// Contact is a contact shared in a chat with the contact button: the
// phone as Telegram writes it (digits, no plus) and the Telegram user it
// belongs to (the sender's own when owner is chatID).
func Contact(chatID int64, language, phone string, owner int64) func(int) map[string]any {
	return func(id int) map[string]any {
		msg := map[string]any{"message_id": 100000 + id, "date": time.Now().Unix(), "chat": Chat(chatID), "from": User(chatID, language),
			"contact": map[string]any{"phone_number": phone, "first_name": "User" + strconv.FormatInt(owner, 10), "user_id": owner}}
		return map[string]any{"update_id": id, "message": msg}
	}
}

// Callback is a press of a button under the message msg.
func Callback(chatID int64, msg Message, data string) func(int) map[string]any {
	return func(id int) map[string]any {
		m := map[string]any{"message_id": msg.MessageID, "date": msg.At.Unix(), "chat": Chat(chatID), "text": msg.Text,
			"from": botUser()}
		if msg.Markup != "" {
			m["reply_markup"] = json.RawMessage(msg.Markup)
		}
		return map[string]any{"update_id": id, "callback_query": map[string]any{
			"id": "cb" + strconv.Itoa(id), "from": User(chatID, "en"), "message": m, "chat_instance": "ci", "data": data,
		}}
	}
}

// Views of what the fake recorded.

// Sent is every message the fake accepted, in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// SentCount is how many messages the fake accepted.
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// SentTo is the messages a chat got, in order.
func (s *Server) SentTo(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.sent {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// Attempts is every sendMessage call that reached the fake.
func (s *Server) Attempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attempt(nil), s.attempts...)
}

// AttemptsTo is the sendMessage calls to one chat.
func (s *Server) AttemptsTo(chatID int64) []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Attempt
	for _, a := range s.attempts {
		if a.ChatID == chatID {
			out = append(out, a)
		}
	}
	return out
}

// Answer is the bot's answer to the button press with that callback id.
func (s *Server) Answer(id string) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.answers {
		if a.ID == id {
			return a, true
		}
	}
	return CallbackAnswer{}, false
}

// EditsOf is the keyboard edits of one message.
func (s *Server) EditsOf(chatID int64, messageID int) []MarkupEdit {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MarkupEdit
	for _, e := range s.edits {
		if e.ChatID == chatID && e.MessageID == messageID {
			out = append(out, e)
		}
	}
	return out
}

// Webhook is the webhook the bot set, and its secret.
func (s *Server) Webhook() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookSecret
}

// CallCount is how many times the bot called a method.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}
