package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/idempotency"
)

// fakeBackend stands in for the services: it signs in the bearer "good" and
// answers customer calls with fail (or a customer), recording what it got.
type fakeBackend struct {
	identityv1.UnimplementedIdentityServiceServer
	customerv1.UnimplementedCustomerServiceServer

	mu    sync.Mutex
	calls int
	md    metadata.MD
	fail  error
	// authentications counts the Authenticate calls.
	authentications int
	// revocations, when set, feeds WatchRevocations streams; closing it
	// breaks them.
	revocations chan *identityv1.WatchRevocationsResponse
}

func (b *fakeBackend) Authenticate(_ context.Context, req *identityv1.AuthenticateRequest) (*identityv1.AuthenticateResponse, error) {
	b.mu.Lock()
	b.authentications++
	b.mu.Unlock()
	if req.GetAccessToken() != "good" {
		return nil, status.Error(codes.Unauthenticated, "no such session")
	}
	return &identityv1.AuthenticateResponse{UserId: 7, Login: "op", Permissions: []string{"customers.write"}}, nil
}

func (b *fakeBackend) record(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	b.md, _ = metadata.FromIncomingContext(ctx)
	return b.fail
}

func (b *fakeBackend) CreateCustomer(ctx context.Context, req *customerv1.CreateCustomerRequest) (*customerv1.CreateCustomerResponse, error) {
	if err := b.record(ctx); err != nil {
		return nil, err
	}
	c := req.GetCustomer()
	c.Id = 1
	return &customerv1.CreateCustomerResponse{Customer: c}, nil
}

func (b *fakeBackend) SearchCustomers(ctx context.Context, _ *customerv1.SearchCustomersRequest) (*customerv1.SearchCustomersResponse, error) {
	return &customerv1.SearchCustomersResponse{}, b.record(ctx)
}

func (b *fakeBackend) seen() (int, metadata.MD) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls, b.md
}

type harness struct {
	h       http.Handler
	backend *fakeBackend
}

func newHarness(t *testing.T, edit func(*Config), more ...func(*grpc.Server)) *harness {
	t.Helper()
	b := &fakeBackend{}
	srv := grpc.NewServer()
	identityv1.RegisterIdentityServiceServer(srv, b)
	customerv1.RegisterCustomerServiceServer(srv, b)
	for _, register := range more {
		register(srv)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	console := t.TempDir()
	if err := os.WriteFile(filepath.Join(console, "index.html"), []byte("<!doctype html><title>CRM</title>"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	cfg := Config{
		HTTPAddr:       "127.0.0.1:0",
		ConsoleDir:     console,
		TrustedProxies: []string{"10.0.0.0/8"},
		// the defaults: the cache keeps nothing until the fake identity
		// service's revocation stream goes live
		SessionCacheSize: 100,
		SessionCacheTTL:  30 * time.Second,
	}
	cfg.Endpoints = config.Endpoints{Customer: addr, Contract: addr, Task: addr, Identity: addr, Notifier: addr}
	if edit != nil {
		edit(&cfg)
	}
	h, closeBackends, err := New(context.Background(), cfg, []byte("gateway-test-internal-key-0123456789abcdef"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeBackends)
	return &harness{h: h, backend: b}
}

// do serves one request; body may be nil.
func (h *harness) do(t *testing.T, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	return w
}

// statusOf reads a google.rpc.Status answer, failing the test when the
// body is not one.
func statusOf(t *testing.T, w *httptest.ResponseRecorder) (code int, message string) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body %q", ct, w.Body.String())
	}
	var st struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || st.Code == 0 || st.Message == "" {
		t.Fatalf("body %q is not a google.rpc.Status (%v)", w.Body.String(), err)
	}
	return st.Code, st.Message
}

func TestClientMistakesAreAnswered4xxWithAStatusAndNeverReachABackend(t *testing.T) {
	h := newHarness(t, nil)
	big := strings.Repeat("a", maxBody+10)
	chunked := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/customers", io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(big), strings.NewReader(`"}`)))
		r.ContentLength = -1 // no length announced: the limit must hold while reading
		return r
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"page token that is not UTF-8", httptest.NewRequest(http.MethodGet, "/api/v1/customers?pageToken=%ff%fe", nil), 400},
		{"query value that is not UTF-8", httptest.NewRequest(http.MethodGet, "/api/v1/customers?query=ab%c3", nil), 400},
		{"malformed query string", httptest.NewRequest(http.MethodGet, "/api/v1/customers?query=%zz", nil), 400},
		{"path that is not UTF-8", httptest.NewRequest(http.MethodGet, "/api/v1/customers/%ff", nil), 400},
		{"body string that is not UTF-8", httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader("{\"name\":\"\xff\xfe\"}")), 400},
		{"wrong JSON type", httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`{"name":5}`)), 400},
		{"not JSON at all", httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`name=x`)), 400},
		{"unknown field", httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`{"nmae":"x"}`)), 400},
		{"body over the limit, announced", httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`{"name":"`+big+`"}`)), 413},
		{"body over the limit, chunked", chunked(), 413},
		{"unknown API path", httptest.NewRequest(http.MethodGet, "/api/v1/nothing-here", nil), 404},
		{"unknown API version", httptest.NewRequest(http.MethodPost, "/api/v2/customers", strings.NewReader(`{}`)), 404},
		{"method the API path does not take", httptest.NewRequest(http.MethodDelete, "/api/v1/customers", nil), 405},
		{"POST outside the API", httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(`{}`)), 405},
		{"PUT on a console route", httptest.NewRequest(http.MethodPut, "/customers/12", nil), 405},
		{"POST on the health route", httptest.NewRequest(http.MethodPost, "/healthz", nil), 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := h.backend.seen()
			w := h.do(t, tc.req)
			if w.Code != tc.want {
				t.Fatalf("HTTP %d, want %d; body %q", w.Code, tc.want, w.Body.String())
			}
			statusOf(t, w)
			if after, _ := h.backend.seen(); after != before {
				t.Fatalf("the fakeBackend was called for a request the gateway must refuse")
			}
		})
	}
}

func TestBackendFailuresAreAnsweredWithoutTheirText(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"internal", status.Error(codes.Internal, "pq: value too long for type character varying(200) at customers.name")},
		{"unknown", status.Error(codes.Unknown, "grpc: error while marshaling: string field contains invalid UTF-8")},
		{"data loss", status.Error(codes.DataLoss, "sqlite: disk image is malformed")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.backend.fail = tc.err
			r := httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`{"name":"Ann"}`))
			r.Header.Set("X-Request-Id", "req-1234")
			w := h.do(t, r)
			if w.Code != http.StatusInternalServerError {
				t.Fatalf("HTTP %d, want 500; body %q", w.Code, w.Body.String())
			}
			code, msg := statusOf(t, w)
			if code != int(codes.Internal) || !strings.Contains(msg, "req-1234") {
				t.Fatalf("status %d %q: want Internal naming the request id", code, msg)
			}
			for _, secret := range []string{"pq:", "grpc:", "sqlite", "varchar", "marshal"} {
				if strings.Contains(w.Body.String(), secret) {
					t.Fatalf("the answer leaks %q: %s", secret, w.Body.String())
				}
			}
			if got := w.Header().Get("X-Request-Id"); got != "req-1234" {
				t.Fatalf("X-Request-Id %q, want req-1234", got)
			}
		})
	}
}

func TestBackendRefusalsKeepTheirMessage(t *testing.T) {
	h := newHarness(t, nil)
	h.backend.fail = status.Error(codes.InvalidArgument, "name: say who the customer is")
	w := h.do(t, httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`{"name":""}`)))
	if _, msg := statusOf(t, w); w.Code != 400 || msg != "name: say who the customer is" {
		t.Fatalf("HTTP %d %q: want the service's 400 as it was", w.Code, msg)
	}
}

func TestTheAuthorizationHeaderIsNotForwarded(t *testing.T) {
	h := newHarness(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`{"name":"Ann"}`))
	r.Header.Set("Authorization", "Bearer good")
	r.Header.Set("Cookie", "session=1")
	if w := h.do(t, r); w.Code != 200 {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
	}
	_, md := h.backend.seen()
	if md == nil {
		t.Fatal("the fakeBackend saw no call")
	}
	for k, v := range md {
		if strings.Contains(strings.ToLower(k), "authorization") || strings.Contains(strings.ToLower(k), "cookie") || strings.Contains(strings.Join(v, " "), "good") {
			t.Fatalf("metadata %s=%v reached the fakeBackend", k, v)
		}
	}
	if len(md.Get(auth.Header)) != 1 {
		t.Fatalf("metadata %v: want the signed principal instead", md)
	}
}

func TestTheIdempotencyKeyIsCheckedAndForwardedOnCommands(t *testing.T) {
	h := newHarness(t, nil)
	post := func(key string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/customers", strings.NewReader(`{"name":"Ann"}`))
		r.Header.Set("Idempotency-Key", key)
		return h.do(t, r)
	}
	for _, bad := range []string{strings.Repeat("k", idempotency.MaxKeyLen+1), "key\x01", "ключ"} {
		if w := post(bad); w.Code != 400 {
			t.Fatalf("key %q: HTTP %d, want 400", bad, w.Code)
		}
	}
	key := strings.Repeat("k", idempotency.MaxKeyLen)
	if w := post(key); w.Code != 200 {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
	}
	if _, md := h.backend.seen(); len(md.Get(idempotency.Header)) != 1 || md.Get(idempotency.Header)[0] != key {
		t.Fatalf("metadata %v: want the key as %s", md, idempotency.Header)
	}
	r := httptest.NewRequest(http.MethodGet, "/api/v1/customers", nil)
	r.Header.Set("Idempotency-Key", "k1")
	h.do(t, r)
	if _, md := h.backend.seen(); len(md.Get(idempotency.Header)) != 0 {
		t.Fatalf("a GET forwarded the key: %v", md)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, nil)
	for _, path := range []string{"/", "/customers/12", "/api/v1/customers", "/api/v1/openapi.json"} {
		w := h.do(t, httptest.NewRequest(http.MethodGet, path, nil))
		for name, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := w.Header().Get(name); got != want {
				t.Errorf("%s: %s %q, want %q", path, name, got, want)
			}
		}
		csp := w.Header().Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self';", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'", "connect-src 'self'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, d)
			}
		}
	}
}

func TestHSTSOnlyOverHTTPS(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name   string
		remote string
		proto  string
		tls    bool
		want   bool
	}{
		{"plain http", "192.0.2.1:1000", "", false, false},
		{"direct TLS", "192.0.2.1:1000", "", true, true},
		{"trusted proxy says https", "10.1.2.3:1000", "https", false, true},
		{"trusted proxy says http", "10.1.2.3:1000", "http", false, false},
		{"untrusted peer says https", "192.0.2.1:1000", "https", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			got := h.do(t, r).Header().Get("Strict-Transport-Security") != ""
			if got != tc.want {
				t.Fatalf("HSTS sent %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMetricsLeaveThePublicListenerWhenTheyHaveTheirOwn(t *testing.T) {
	for _, tc := range []struct {
		metricsAddr string
		want        int
	}{
		{"", http.StatusOK},
		{"127.0.0.1:9100", http.StatusNotFound},
	} {
		h := newHarness(t, func(c *Config) { c.MetricsAddr = tc.metricsAddr })
		w := h.do(t, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if w.Code != tc.want || tc.want == 404 && strings.Contains(w.Body.String(), "# HELP") {
			t.Fatalf("CRM_METRICS_ADDR %q: GET /metrics answered %d, want %d", tc.metricsAddr, w.Code, tc.want)
		}
	}
}

func TestAnOversizedBodyOverARealConnectionGets413NotAReset(t *testing.T) {
	h := newHarness(t, nil)
	srv := httptest.NewServer(h.h)
	defer srv.Close()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(strings.Repeat("x", 8<<20))
		if chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		resp, err := http.Post(srv.URL+"/api/v1/customers", "application/json", body)
		if err != nil {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(got), `"code"`) {
			t.Fatalf("chunked %v: HTTP %d %q, want 413 with a status", chunked, resp.StatusCode, got)
		}
	}
}
