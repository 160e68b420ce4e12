package botapifake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const token = "1:test"

func call(t *testing.T, s *Server, method string, body any) (int, map[string]any, error) {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := http.Post(s.URL()+"/bot"+token+"/"+method, "application/json", bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

func start(t *testing.T) *Server {
	t.Helper()
	s, err := New(token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestSendMessageIsRecordedAndFaultsPlayOutInOrder(t *testing.T) {
	s := start(t)
	s.FailSends(42, Flood, 1, 3)
	s.FailSends(0, ServerError, 1, 0)
	for _, want := range []int{429, 502, 200} {
		code, body, err := call(t, s, "sendMessage", map[string]any{"chat_id": 42, "text": "hello <b>x</b>", "parse_mode": "HTML"})
		if err != nil || code != want {
			t.Fatalf("send answered %d %v (%v), want %d", code, body, err, want)
		}
	}
	if got := s.SentTo(42); len(got) != 1 || got[0].Text != "hello <b>x</b>" || got[0].MessageID != 1 {
		t.Fatalf("recorded %+v", got)
	}
	var results []string
	for _, a := range s.AttemptsTo(42) {
		results = append(results, a.Result)
	}
	if strings.Join(results, ",") != "429,5xx,sent" {
		t.Fatalf("attempts %v", results)
	}
}

func TestDroppedAnswerKeepsTheMessageAndBadHTMLIsRefused(t *testing.T) {
	s := start(t)
	s.FailSends(7, Drop, 1, 0)
	if _, _, err := call(t, s, "sendMessage", map[string]any{"chat_id": 7, "text": "taken"}); err == nil {
		t.Fatal("a dropped answer arrived")
	}
	if n := len(s.SentTo(7)); n != 1 {
		t.Fatalf("%d messages held after a dropped answer, want 1", n)
	}
	if code, _, _ := call(t, s, "sendMessage", map[string]any{"chat_id": 7, "text": "a < b", "parse_mode": "HTML"}); code != 400 {
		t.Fatalf("bad HTML answered %d, want 400", code)
	}
}

func TestGoDownRefusesConnectionsUntilComeBack(t *testing.T) {
	s := start(t)
	s.GoDown()
	if !s.Down() {
		t.Fatal("not down")
	}
	if _, _, err := call(t, s, "getMe", nil); err == nil {
		t.Fatal("a call got through while down")
	}
	if err := s.ComeBack(); err != nil {
		t.Fatal(err)
	}
	if code, _, err := call(t, s, "getMe", nil); err != nil || code != 200 {
		t.Fatalf("getMe after coming back: %d %v", code, err)
	}
}

func TestGetUpdatesHandsPushedUpdatesUntilConfirmed(t *testing.T) {
	s := start(t)
	done := make(chan map[string]any, 1)
	go func() {
		_, body, _ := call(t, s, "getUpdates", map[string]any{"timeout": 5})
		done <- body
	}()
	time.Sleep(50 * time.Millisecond)
	id := s.Push(Text(99, "en", "/start CODE", 0))
	body := <-done
	got, _ := json.Marshal(body["result"])
	if !strings.Contains(string(got), "/start CODE") || !strings.Contains(string(got), "bot_command") {
		t.Fatalf("long poll answered %s", got)
	}
	_, body, _ = call(t, s, "getUpdates", map[string]any{"offset": id + 1, "timeout": 0})
	if res, _ := body["result"].([]any); len(res) != 0 {
		t.Fatalf("a confirmed update came again: %v", body)
	}
}
