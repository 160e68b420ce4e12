package gateway

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

// WatchRevocations says the stream is live, then passes on what the test
// sends until it closes the channel, which breaks the stream.
func (b *fakeBackend) WatchRevocations(_ *identityv1.WatchRevocationsRequest, stream grpc.ServerStreamingServer[identityv1.WatchRevocationsResponse]) error {
	b.mu.Lock()
	feed := b.revocations
	b.mu.Unlock()
	if feed == nil {
		return status.Error(codes.Unavailable, "not watching")
	}
	if err := stream.Send(&identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_Live{Live: true}}); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case r, ok := <-feed:
			if !ok {
				return status.Error(codes.Unavailable, "lost")
			}
			if err := stream.Send(r); err != nil {
				return err
			}
		}
	}
}

func (b *fakeBackend) authenticated() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.authentications
}

// searchAsGood makes a signed-in request and returns how many times the
// identity service has been asked by then.
func (h *harness) searchAsGood(t *testing.T) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/customers", nil)
	r.Header.Set("Authorization", "Bearer good")
	if w := h.do(t, r); w.Code != 200 {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
	}
	return h.backend.authenticated()
}

// settled makes requests until one is answered without asking the
// identity service (the cache went live), within 5 s.
func (h *harness) settled(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for before := h.searchAsGood(t); ; {
		after := h.searchAsGood(t)
		if after == before {
			return
		}
		before = after
		if time.Now().After(deadline) {
			t.Fatal("every request still asks the identity service after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTheGatewayAnswersACheckedSessionFromItsCacheAndForgetsItWhenTheStreamBreaks(t *testing.T) {
	feed := make(chan *identityv1.WatchRevocationsResponse)
	h := newHarness(t, nil)
	h.backend.mu.Lock()
	h.backend.revocations = feed
	h.backend.mu.Unlock()
	h.settled(t)
	n := h.searchAsGood(t)
	for range 5 {
		if got := h.searchAsGood(t); got != n {
			t.Fatalf("a cached session asked the identity service (%d calls, then %d)", n, got)
		}
	}
	// A revocation of the user makes the next request ask again.
	feed <- &identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_UserId{UserId: 7}}
	waitUntil(t, func() bool { return h.searchAsGood(t) > n })

	// The stream breaks and stays down: every request asks.
	h.backend.mu.Lock()
	h.backend.revocations = nil
	h.backend.mu.Unlock()
	close(feed)
	waitUntil(t, func() bool {
		before := h.searchAsGood(t)
		return h.searchAsGood(t) == before+1
	})
	for range 3 {
		before := h.backend.authenticated()
		if got := h.searchAsGood(t); got != before+1 {
			t.Fatalf("without the stream a request asked the identity service %d times, want once", got-before)
		}
	}
}

func TestSessionCacheTTLAboveThirtySecondsIsRefused(t *testing.T) {
	cfg := Config{SessionCacheSize: 10, SessionCacheTTL: time.Minute}
	cfg.Endpoints.Identity = "127.0.0.1:1"
	if _, _, err := New(t.Context(), cfg, []byte("gateway-test-internal-key-0123456789abcdef"), slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a one-minute session cache was accepted")
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("not within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
