// Package smsrufake is SMS.ru's HTTP API on loopback, speaking its real
// protocol: POST (or GET) /sms/send and /sms/status with api_id and
// json=1, form-encoded, answered with SMS.ru's JSON (a status, a
// status_code, and per number or per message the same). It records the
// messages it took and can be told to fail the ways SMS.ru fails: a
// refusal code for the next sends, HTTP 429 for the next sends, the
// service down (503), or a message taken with its answer lost.
//
// The notifier's tests and the end-to-end tests use it; it needs nothing
// but the standard library.
package smsrufake

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Message is a message the fake took.
type Message struct {
	ID   string
	To   string
	Text string
	From string
	At   time.Time
}

// Server is the fake API.
type Server struct {
	key  string
	lis  net.Listener
	srv  *http.Server
	mu   sync.Mutex
	sent []Message
	// statuses hold each message's delivery code (103: delivered).
	statuses map[string]int
	// refuse answers the next sends with these codes, in order.
	refuse []int
	// drops takes the next sends and loses their answers.
	drops int
	// throttled answers the next sends HTTP 429 Too Many Requests.
	throttled int
	down      bool
	calls     map[string]int
	seq       int
}

// New starts the fake on a free loopback port; key is the api_id it takes.
func New(key string) (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{key: key, lis: lis, statuses: map[string]int{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/sms/send", s.send)
	mux.HandleFunc("/sms/status", s.status)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(lis) }()
	return s, nil
}

// URL is the API's base address.
func (s *Server) URL() string { return "http://" + s.lis.Addr().String() }

// Close stops the fake.
func (s *Server) Close() { _ = s.srv.Close() }

// Refuse answers the next sends with these SMS.ru codes, one each.
func (s *Server) Refuse(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = append(s.refuse, codes...)
}

// DropAnswers takes the next n messages and closes the connection without
// an answer, as a network failure after SMS.ru took the message would.
func (s *Server) DropAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops += n
}

// Throttle answers the next n sends HTTP 429 Too Many Requests, as a
// provider's front does to a client sending too fast.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttled += n
}

// GoDown answers every call 503 until ComeBack.
func (s *Server) GoDown() { s.setDown(true) }

// ComeBack ends GoDown.
func (s *Server) ComeBack() { s.setDown(false) }

func (s *Server) setDown(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = v
}

// SetStatus sets the delivery code sms/status answers for a message.
func (s *Server) SetStatus(id string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses[id] = code
}

// Sent is every message taken, in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// SentTo is the messages taken for a number (digits only, as SMS.ru takes
// them: "79161234567").
func (s *Server) SentTo(to string) []Message {
	var out []Message
	for _, m := range s.Sent() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Calls counts the calls of a method ("sms/send"), refused ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func answer(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func refused(code int, text string) map[string]any {
	return map[string]any{"status": "ERROR", "status_code": code, "status_text": text}
}

// begin counts the call and answers what fails the call as a whole: the
// service down, a wrong key.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, method string) bool {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	s.mu.Lock()
	s.calls[method]++
	down := s.down
	s.mu.Unlock()
	switch {
	case down:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return false
	case r.Form.Get("api_id") != s.key:
		answer(w, refused(200, "Неправильный api_id"))
		return false
	}
	return true
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "sms/send") {
		return
	}
	to, text := r.Form.Get("to"), r.Form.Get("msg")
	switch {
	case strings.TrimSpace(text) == "":
		answer(w, refused(203, "Нет текста сообщения"))
		return
	case len(to) < 11 || strings.Trim(to, "0123456789") != "":
		answer(w, refused(202, "Неправильно указан номер телефона получателя"))
		return
	}
	s.mu.Lock()
	if s.throttled > 0 {
		s.throttled--
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	if len(s.refuse) > 0 {
		code := s.refuse[0]
		s.refuse = s.refuse[1:]
		s.mu.Unlock()
		answer(w, map[string]any{"status": "OK", "status_code": 100, "sms": map[string]any{
			to: map[string]any{"status": "ERROR", "status_code": code, "status_text": fmt.Sprintf("refused with code %d", code)},
		}})
		return
	}
	s.seq++
	id := fmt.Sprintf("%06d-%08d", s.seq/100000000, s.seq)
	s.sent = append(s.sent, Message{ID: id, To: to, Text: text, From: r.Form.Get("from"), At: time.Now()})
	s.statuses[id] = 103
	drop := s.drops > 0
	if drop {
		s.drops--
	}
	s.mu.Unlock()
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	answer(w, map[string]any{"status": "OK", "status_code": 100, "balance": 100.5, "sms": map[string]any{
		to: map[string]any{"status": "OK", "status_code": 100, "sms_id": id},
	}})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "sms/status") {
		return
	}
	id := r.Form.Get("sms_id")
	s.mu.Lock()
	code, ok := s.statuses[id]
	s.mu.Unlock()
	text := "Сообщение доставлено"
	if code != 103 {
		text = fmt.Sprintf("Код состояния %d", code)
	}
	one := map[string]any{"status": "OK", "status_code": code, "status_text": text}
	if !ok {
		one = map[string]any{"status": "ERROR", "status_code": -1, "status_text": "Сообщение не найдено"}
	}
	answer(w, map[string]any{"status": "OK", "status_code": 100, "sms": map[string]any{id: one}})
}
