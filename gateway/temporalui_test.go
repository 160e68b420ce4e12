package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/metrics"
)

// fakeSessions stands in for the identity service's Authenticate: the
// sessions it knows by token, each with its user's permissions.
type fakeSessions struct {
	identityv1.IdentityServiceClient

	mu       sync.Mutex
	sessions map[string]*identityv1.AuthenticateResponse
	down     bool
	calls    int
}

func (f *fakeSessions) Authenticate(_ context.Context, req *identityv1.AuthenticateRequest, _ ...grpc.CallOption) (*identityv1.AuthenticateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return nil, status.Error(codes.Unavailable, "connection refused")
	}
	s, ok := f.sessions[req.GetAccessToken()]
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no such session")
	}
	return s, nil
}

func (f *fakeSessions) set(token string, s *identityv1.AuthenticateResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s == nil {
		delete(f.sessions, token)
	} else {
		f.sessions[token] = s
	}
}

func (f *fakeSessions) asked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// seen is a request as the UI server got it.
type seen struct {
	method, uri, authorization, cookie string
}

type uiHarness struct {
	h        http.Handler
	sessions *fakeSessions
	now      time.Time
	mu       sync.Mutex
	got      []seen
	// page is what the UI server answers.
	page func(w http.ResponseWriter, r *http.Request)
}

const uiTestKey = "gateway-test-internal-key-0123456789abcdef"

func newUIHarness(t *testing.T, edit func(*Config)) *uiHarness {
	t.Helper()
	u := &uiHarness{
		now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		sessions: &fakeSessions{sessions: map[string]*identityv1.AuthenticateResponse{
			"supervisor": {UserId: 3, Login: "sup", Permissions: []string{"tasks.read", "tasks.manage"}, SessionId: "s3"},
			"operator":   {UserId: 4, Login: "op", Permissions: []string{"tasks.read", "tasks.write"}, SessionId: "s4"},
			"first-day":  {UserId: 5, Login: "new", Permissions: []string{"tasks.manage"}, MustChangePassword: true},
		}},
		page: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"workflows":[]}`))
		},
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.got = append(u.got, seen{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Cookie")})
		page := u.page
		u.mu.Unlock()
		page(w, r)
	}))
	t.Cleanup(upstream.Close)
	cfg := Config{TemporalUIUpstream: upstream.URL}
	if edit != nil {
		edit(&cfg)
	}
	ui, err := newTemporalUI(cfg, []byte(uiTestKey), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ui.now = func() time.Time {
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.now
	}
	mux := http.NewServeMux()
	ui.mount(mux, metrics.New(), u.sessions)
	u.h = securityHeaders(nil, mux)
	return u
}

func (u *uiHarness) advance(d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.now = u.now.Add(d)
}

func (u *uiHarness) upstreamGot() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.got...)
}

// ticket asks for a ticket with bearer and returns the answer.
func (u *uiHarness) ticket(t *testing.T, bearer string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/temporal-ui", nil)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	u.h.ServeHTTP(w, r)
	return w
}

// cookieOf is the ticket cookie an answer sets, or nil.
func cookieOf(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == ticketCookie {
			return c
		}
	}
	return nil
}

// signIn gets a ticket for bearer and returns its cookie.
func (u *uiHarness) signIn(t *testing.T, bearer string) *http.Cookie {
	t.Helper()
	w := u.ticket(t, bearer)
	c := cookieOf(w)
	if w.Code != http.StatusNoContent || c == nil {
		t.Fatalf("ticket for %s: HTTP %d, cookie %v; body %q", bearer, w.Code, c, w.Body.String())
	}
	return c
}

// get asks the UI for path with the cookies given.
func (u *uiHarness) get(t *testing.T, method, path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	w := httptest.NewRecorder()
	u.h.ServeHTTP(w, r)
	return w
}

func TestTemporalUIWithoutTicketIs401AndShowsNothingOfTheUI(t *testing.T) {
	u := newUIHarness(t, nil)
	for _, path := range []string{"/temporal/", "/temporal/namespaces/crm/workflows/task-1", "/temporal/api/v1/namespaces/crm/workflows", "/temporal/_app/immutable/entry/start.js"} {
		w := u.get(t, http.MethodGet, path)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("%s: HTTP %d, want 401", path, w.Code)
		}
		if code, _ := statusOf(t, w); code != int(codes.Unauthenticated) {
			t.Fatalf("%s: status code %d, want Unauthenticated", path, code)
		}
	}
	// a bearer is no ticket: a browser's navigation carries none anyway
	r := httptest.NewRequest(http.MethodGet, "/temporal/", nil)
	r.Header.Set("Authorization", "Bearer supervisor")
	w := httptest.NewRecorder()
	u.h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("with a bearer and no ticket: HTTP %d, want 401", w.Code)
	}
	if got := u.upstreamGot(); len(got) != 0 {
		t.Fatalf("the UI server was asked %v", got)
	}
}

func TestTemporalUITicketIsRefusedWithoutASessionOrThePermission(t *testing.T) {
	u := newUIHarness(t, nil)
	for _, tc := range []struct {
		bearer string
		want   int
	}{
		{"", http.StatusUnauthorized},
		{"ended-session", http.StatusUnauthorized},
		{"operator", http.StatusForbidden},
		{"first-day", http.StatusForbidden}, // must change the password first
	} {
		w := u.ticket(t, tc.bearer)
		if w.Code != tc.want {
			t.Fatalf("bearer %q: HTTP %d, want %d; body %q", tc.bearer, w.Code, tc.want, w.Body.String())
		}
		statusOf(t, w)
		if c := cookieOf(w); c != nil {
			t.Fatalf("bearer %q got a ticket: %v", tc.bearer, c)
		}
	}
	u.sessions.down = true
	if w := u.ticket(t, "supervisor"); w.Code != http.StatusServiceUnavailable || cookieOf(w) != nil {
		t.Fatalf("identity service down: HTTP %d, cookie %v; want 503 and none", w.Code, cookieOf(w))
	}
}

func TestTemporalUITicketIsAnHttpOnlyStrictCookieForTheUIPathOnly(t *testing.T) {
	for _, tc := range []struct {
		name      string
		publicURL string
		https     bool
		secure    bool
	}{
		{"http public address", "http://crm.local:8080", true, false},
		{"https public address", "https://crm.example.com", false, true},
		{"no public address, plain request", "", false, false},
		{"no public address, TLS request", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUIHarness(t, func(c *Config) { c.PublicURL = tc.publicURL })
			r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/temporal-ui", nil)
			r.Header.Set("Authorization", "Bearer supervisor")
			if tc.https {
				r = httptest.NewRequest(http.MethodPost, "https://crm.example.com/api/v1/auth/temporal-ui", nil)
				r.Header.Set("Authorization", "Bearer supervisor")
			}
			w := httptest.NewRecorder()
			u.h.ServeHTTP(w, r)
			c := cookieOf(w)
			if w.Code != http.StatusNoContent || c == nil {
				t.Fatalf("HTTP %d, cookie %v", w.Code, c)
			}
			if c.Path != "/temporal/" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tc.secure || c.MaxAge != 600 {
				t.Fatalf("cookie %s, want Path=/temporal/ HttpOnly SameSite=Strict Max-Age=600 Secure=%v", c, tc.secure)
			}
			if strings.Contains(c.Value, "supervisor") {
				t.Fatalf("the cookie shows the session's token: %s", c.Value)
			}
		})
	}
}

func TestTemporalUIForgedOrExpiredTicketIs401(t *testing.T) {
	u := newUIHarness(t, nil)
	good := u.signIn(t, "supervisor")
	raw, _ := base64.RawURLEncoding.DecodeString(good.Value)
	raw[len(raw)-1] ^= 1
	for name, value := range map[string]string{
		"tampered":   base64.RawURLEncoding.EncodeToString(raw),
		"not base64": "!!!",
		"empty":      "",
	} {
		w := u.get(t, http.MethodGet, "/temporal/", &http.Cookie{Name: ticketCookie, Value: value})
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("%s ticket: HTTP %d, want 401", name, w.Code)
		}
		if c := cookieOf(w); c == nil || c.MaxAge >= 0 {
			t.Fatalf("%s ticket: the cookie is not cleared (%v)", name, c)
		}
	}
	foreign, err := newTemporalUI(Config{TemporalUIUpstream: "http://127.0.0.1:1"}, []byte("another-deployment-key-0123456789abcdef"), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	foreign.setTicket(w, httptest.NewRequest(http.MethodGet, "/", nil), ticket{Bearer: "supervisor", UserID: 3, Checked: u.now.Unix()})
	if w := u.get(t, http.MethodGet, "/temporal/", cookieOf(w)); w.Code != http.StatusUnauthorized {
		t.Fatalf("ticket sealed with another key: HTTP %d, want 401", w.Code)
	}

	if w := u.get(t, http.MethodGet, "/temporal/", good); w.Code != http.StatusOK {
		t.Fatalf("good ticket: HTTP %d", w.Code)
	}
	u.advance(ticketTTL)
	if w := u.get(t, http.MethodGet, "/temporal/", good); w.Code != http.StatusUnauthorized {
		t.Fatalf("ticket left idle %s: HTTP %d, want 401", ticketTTL, w.Code)
	}
	if got := u.upstreamGot(); len(got) != 1 {
		t.Fatalf("the UI server was asked %d times, want once (for the good ticket)", len(got))
	}
}

func TestTemporalUIGoodTicketIsProxiedWithoutTheTicketOrAuthorization(t *testing.T) {
	u := newUIHarness(t, nil)
	c := u.signIn(t, "supervisor")
	r := httptest.NewRequest(http.MethodGet, "/temporal/api/v1/namespaces/crm/workflows?query=WorkflowId%3D%22task-1%22", nil)
	r.Header.Set("Authorization", "Bearer supervisor")
	r.Header.Set("Cookie", "_csrf=abc; "+ticketCookie+"="+c.Value+"; theme=dark")
	w := httptest.NewRecorder()
	u.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.String() != `{"workflows":[]}` {
		t.Fatalf("HTTP %d %q, want the UI server's answer", w.Code, w.Body.String())
	}
	got := u.upstreamGot()
	if len(got) != 1 {
		t.Fatalf("the UI server was asked %d times", len(got))
	}
	want := seen{http.MethodGet, "/temporal/api/v1/namespaces/crm/workflows?query=WorkflowId%3D%22task-1%22", "", "_csrf=abc; theme=dark"}
	if got[0] != want {
		t.Fatalf("the UI server got %+v, want %+v", got[0], want)
	}
	if u.sessions.asked() != 1 {
		t.Fatalf("the session was asked about %d times within the re-check bound, want once (the ticket)", u.sessions.asked())
	}
}

func TestTemporalUIRevokedSessionOrLostPermissionIsRefusedWithinTheRecheckBound(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change *identityv1.AuthenticateResponse
		want   int
	}{
		{"session revoked", nil, http.StatusUnauthorized},
		{"permission withdrawn", &identityv1.AuthenticateResponse{UserId: 3, Permissions: []string{"tasks.read"}}, http.StatusForbidden},
		{"password reset by an admin", &identityv1.AuthenticateResponse{UserId: 3, Permissions: []string{"tasks.manage"}, MustChangePassword: true}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUIHarness(t, nil)
			c := u.signIn(t, "supervisor")
			u.sessions.set("supervisor", tc.change)
			u.advance(ticketRecheck - time.Second)
			if w := u.get(t, http.MethodGet, "/temporal/", c); w.Code != http.StatusOK {
				t.Fatalf("before the re-check: HTTP %d, want 200", w.Code)
			}
			u.advance(time.Second)
			w := u.get(t, http.MethodGet, "/temporal/", c)
			if w.Code != tc.want {
				t.Fatalf("at the re-check: HTTP %d, want %d", w.Code, tc.want)
			}
			statusOf(t, w)
			if cleared := cookieOf(w); cleared == nil || cleared.MaxAge >= 0 {
				t.Fatalf("the ticket is not cleared: %v", cleared)
			}
			if got := u.upstreamGot(); len(got) != 1 {
				t.Fatalf("the UI server was asked %d times, want once (before the re-check)", len(got))
			}
		})
	}
}

func TestTemporalUITicketIsRenewedAtEachRecheckWhileInUse(t *testing.T) {
	u := newUIHarness(t, nil)
	c := u.signIn(t, "supervisor")
	for range 3 {
		u.advance(ticketTTL - time.Minute)
		w := u.get(t, http.MethodGet, "/temporal/", c)
		renewed := cookieOf(w)
		if w.Code != http.StatusOK || renewed == nil || renewed.MaxAge != 600 {
			t.Fatalf("HTTP %d, renewed %v; want 200 with a fresh ticket", w.Code, renewed)
		}
		c = renewed
	}
	u.sessions.down = true
	u.advance(ticketRecheck)
	if w := u.get(t, http.MethodGet, "/temporal/", c); w.Code != http.StatusServiceUnavailable || cookieOf(w) != nil {
		t.Fatalf("identity service down: HTTP %d, cookie %v; want 503 with the ticket kept", w.Code, cookieOf(w))
	}
}

func TestTemporalUIIsReadOnlyEvenIfItsServerAllowedWrites(t *testing.T) {
	u := newUIHarness(t, nil)
	c := u.signIn(t, "supervisor")
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/temporal/api/v1/namespaces/crm/workflows/task-1", http.StatusOK},
		{http.MethodHead, "/temporal/", http.StatusOK},
		{http.MethodPost, "/temporal/api/v1/namespaces/crm/workflows/task-1/query/__stack_trace", http.StatusOK},
		{http.MethodPost, "/temporal/api/v1/namespaces/crm/workflows/task-1/terminate", http.StatusForbidden},
		{http.MethodPost, "/temporal/api/v1/namespaces/crm/workflows/task-1/signal/complete", http.StatusForbidden},
		{http.MethodPost, "/temporal/api/v1/namespaces/crm/workflows/task-1/reset", http.StatusForbidden},
		{http.MethodPost, "/temporal/api/v1/namespaces/crm/workflows/a%2Fquery%2Fb/terminate", http.StatusForbidden},
		{http.MethodPost, "/temporal/api/v1/namespaces/crm/batch-operations/x", http.StatusForbidden},
		{http.MethodDelete, "/temporal/api/v1/namespaces/crm/schedules/s", http.StatusForbidden},
		{http.MethodPut, "/temporal/api/v1/namespaces/crm", http.StatusForbidden},
	} {
		before := len(u.upstreamGot())
		w := u.get(t, tc.method, tc.path, c)
		if w.Code != tc.want {
			t.Fatalf("%s %s: HTTP %d, want %d", tc.method, tc.path, w.Code, tc.want)
		}
		if reached := len(u.upstreamGot()) > before; reached != (tc.want == http.StatusOK) {
			t.Fatalf("%s %s reached the UI server: %v", tc.method, tc.path, reached)
		}
	}
}

func TestTemporalUIPageGetsAScriptPolicyWithItsInlineScriptHashedAndItsCookiesScoped(t *testing.T) {
	const script = "\n\t{ __sveltekit_x = { base: \"/temporal\" }; import(\"/temporal/_app/start.js\") }\n"
	page := "<!doctype html><html><head><script src=\"/temporal/_app/x.js\"></script></head><body><div><script>" + script + "</script></div></body></html>"
	sum := sha256.Sum256([]byte(script))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	for _, zipped := range []bool{false, true} {
		u := newUIHarness(t, nil)
		u.page = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Content-Security-Policy", "frame-src 'self';")
			w.Header().Add("Set-Cookie", "_csrf=abc; Path=/; Secure; SameSite=Strict")
			if zipped {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				zw.Write([]byte(page))
				zw.Close()
				return
			}
			w.Write([]byte(page))
		}
		c := u.signIn(t, "supervisor")
		w := u.get(t, http.MethodGet, "/temporal/namespaces/crm/workflows/task-1", c)
		if w.Code != http.StatusOK || w.Body.String() != page {
			t.Fatalf("zipped %v: HTTP %d %q, want the page as served", zipped, w.Code, w.Body.String())
		}
		policies := w.Header().Values("Content-Security-Policy")
		if len(policies) != 2 || policies[0] != "frame-src 'self';" {
			t.Fatalf("zipped %v: policies %q, want the UI server's and ours (not the console's)", zipped, policies)
		}
		if !strings.Contains(policies[1], "script-src 'self' "+hash+";") || strings.Count(policies[1], "sha256-") != 1 {
			t.Fatalf("zipped %v: policy %q, want scripts from 'self' and the inline one %s", zipped, policies[1], hash)
		}
		for name, want := range map[string]string{
			"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			// the UI's own cookie stays within the UI
			"Set-Cookie": "_csrf=abc; Path=/temporal/; Secure; SameSite=Strict",
		} {
			if got := w.Header().Values(name); len(got) != 1 || got[0] != want {
				t.Fatalf("zipped %v: %s %q, want %q once", zipped, name, got, want)
			}
		}
	}
}

func TestTemporalUINotAnsweringIs502(t *testing.T) {
	u := newUIHarness(t, func(c *Config) { c.TemporalUIUpstream = "http://127.0.0.1:1" })
	w := u.get(t, http.MethodGet, "/temporal/", u.signIn(t, "supervisor"))
	if w.Code != http.StatusBadGateway {
		t.Fatalf("HTTP %d, want 502", w.Code)
	}
	statusOf(t, w)
}

func TestTemporalUIUpstreamMustBeAServerAddress(t *testing.T) {
	for _, bad := range []string{"temporal-ui:8080", "ftp://temporal-ui", "http://temporal-ui:8080/temporal", "http://", "http://u:p@temporal-ui:8080"} {
		if _, err := newTemporalUI(Config{TemporalUIUpstream: bad}, []byte(uiTestKey), nil, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("CRM_TEMPORAL_UI_UPSTREAM %q was taken", bad)
		}
	}
	if _, err := newTemporalUI(Config{TemporalUIUpstream: "http://temporal-ui:8080", PublicURL: "crm.example.com"}, []byte(uiTestKey), nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("CRM_PUBLIC_URL without a scheme was taken")
	}
	ui, err := newTemporalUI(Config{}, []byte(uiTestKey), nil, slog.New(slog.DiscardHandler))
	if ui != nil || err != nil {
		t.Fatalf("no upstream: %v, %v; want nothing", ui, err)
	}
}

// Through the whole gateway: the console learns where the UI is, and the
// identity service is asked over gRPC.
func TestConsoleLinksToTheProxiedUIWithATicketOnlyWhenAnUpstreamIsSet(t *testing.T) {
	consoleConfig := func(h *harness) map[string]any {
		w := h.do(t, httptest.NewRequest(http.MethodGet, "/console-config.json", nil))
		var got map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	direct := newHarness(t, func(c *Config) { c.TemporalUIURL = "http://127.0.0.1:8233"; c.Temporal.Namespace = "crm" })
	if got := consoleConfig(direct); got["temporalUiUrl"] != "http://127.0.0.1:8233" || got["temporalUiTicket"] != nil {
		t.Fatalf("without an upstream: %v, want the UI's own address and no ticket", got)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/temporal-ui", nil)
	r.Header.Set("Authorization", "Bearer good")
	if w := direct.do(t, r); w.Code != http.StatusNotFound {
		t.Fatalf("ticket without an upstream: HTTP %d, want 404", w.Code)
	}

	for _, link := range []string{"", "/temporal", "https://crm.example.com/temporal/"} {
		h := newHarness(t, func(c *Config) { c.TemporalUIURL = link; c.TemporalUIUpstream = "http://127.0.0.1:1" })
		want := link
		if want == "" {
			want = "/temporal"
		}
		if got := consoleConfig(h); got["temporalUiUrl"] != want || got["temporalUiTicket"] != true {
			t.Fatalf("upstream and CRM_TEMPORAL_UI_URL %q: %v, want %s with a ticket", link, got, want)
		}
	}
	// a deployment may still link to a UI of its own elsewhere
	elsewhere := newHarness(t, func(c *Config) {
		c.TemporalUIURL = "https://temporal.example.com"
		c.TemporalUIUpstream = "http://127.0.0.1:1"
	})
	if got := consoleConfig(elsewhere); got["temporalUiUrl"] != "https://temporal.example.com" || got["temporalUiTicket"] != nil {
		t.Fatalf("upstream and another UI's address: %v, want that address and no ticket", got)
	}

	proxied := newHarness(t, func(c *Config) {
		c.TemporalUIUpstream = "http://127.0.0.1:1"
		c.Temporal.Namespace = "crm"
	})
	if got := consoleConfig(proxied); got["temporalNamespace"] != "crm" {
		t.Fatalf("with an upstream: %v, want the namespace crm", got)
	}
	r = httptest.NewRequest(http.MethodPost, "/api/v1/auth/temporal-ui", nil)
	r.Header.Set("Authorization", "Bearer good")
	// the fake backend's user holds customers.write only
	if w := proxied.do(t, r); w.Code != http.StatusForbidden {
		t.Fatalf("ticket of a user without tasks.manage: HTTP %d, want 403; body %q", w.Code, w.Body.String())
	}
	if w := proxied.do(t, httptest.NewRequest(http.MethodGet, "/temporal/", nil)); w.Code != http.StatusUnauthorized || bytes.Contains(w.Body.Bytes(), []byte("<html")) {
		t.Fatalf("/temporal/ without a ticket: HTTP %d %q, want 401", w.Code, w.Body.String())
	}
}
