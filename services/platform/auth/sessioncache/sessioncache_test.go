package sessioncache

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

// fakeIdentity answers every token as user 7's session "1", after
// answering waits for the test when set; its revocation stream passes on
// what the test sends.
type fakeIdentity struct {
	identityv1.IdentityServiceClient
	calls     atomic.Int64
	answering chan struct{}
	feed      chan *identityv1.WatchRevocationsResponse
}

func (f *fakeIdentity) Authenticate(context.Context, *identityv1.AuthenticateRequest, ...grpc.CallOption) (*identityv1.AuthenticateResponse, error) {
	f.calls.Add(1)
	if f.answering != nil {
		f.answering <- struct{}{} // the call has been read
		<-f.answering             // the test lets it answer
	}
	return &identityv1.AuthenticateResponse{UserId: 7, SessionId: "1"}, nil
}

func (f *fakeIdentity) WatchRevocations(ctx context.Context, _ *identityv1.WatchRevocationsRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[identityv1.WatchRevocationsResponse], error) {
	return &fakeStream{ctx: ctx, feed: f.feed}, nil
}

type fakeStream struct {
	grpc.ClientStream
	ctx  context.Context
	feed chan *identityv1.WatchRevocationsResponse
}

func (s *fakeStream) Recv() (*identityv1.WatchRevocationsResponse, error) {
	select {
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	case r := <-s.feed:
		return r, nil
	}
}

func live() *identityv1.WatchRevocationsResponse {
	return &identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_Live{Live: true}}
}

func watched(t *testing.T, f *fakeIdentity) *Cache {
	t.Helper()
	c, err := New(f, Config{Size: 10, TTL: MaxTTL}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Watch(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.feed <- live()
	deadline := time.Now().Add(5 * time.Second)
	for !c.Live() {
		if time.Now().After(deadline) {
			t.Fatal("the stream did not go live")
		}
		time.Sleep(time.Millisecond)
	}
	return c
}

func ask(t *testing.T, c *Cache) {
	t.Helper()
	if _, err := c.Authenticate(context.Background(), &identityv1.AuthenticateRequest{AccessToken: "token"}); err != nil {
		t.Fatal(err)
	}
}

func TestAnAnswerAskedForWhileARevocationArrivedIsNotKept(t *testing.T) {
	f := &fakeIdentity{answering: make(chan struct{}), feed: make(chan *identityv1.WatchRevocationsResponse)}
	c := watched(t, f)
	asked := make(chan error)
	go func() {
		_, err := c.Authenticate(context.Background(), &identityv1.AuthenticateRequest{AccessToken: "token"})
		asked <- err
	}()
	<-f.answering
	// The session ends while identity's answer, read before, is on its way.
	f.feed <- &identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_SessionId{SessionId: "1"}}
	f.feed <- live() // a heartbeat: the revocation before it has been applied
	f.answering <- struct{}{}
	if err := <-asked; err != nil {
		t.Fatal(err)
	}
	f.answering = nil
	ask(t, c)
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("identity was asked %d times, want 2: the answer that raced the revocation was kept", n)
	}
	ask(t, c)
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("identity was asked %d times, want 2: an answer asked for afterwards was not kept", n)
	}
}

func TestARevocationForgetsOnlyWhatItNames(t *testing.T) {
	f := &fakeIdentity{feed: make(chan *identityv1.WatchRevocationsResponse)}
	c := watched(t, f)
	ask(t, c)
	for _, r := range []*identityv1.WatchRevocationsResponse{
		{Revoked: &identityv1.WatchRevocationsResponse_SessionId{SessionId: "2"}},
		{Revoked: &identityv1.WatchRevocationsResponse_UserId{UserId: 8}},
		live(),
	} {
		f.feed <- r
	}
	ask(t, c)
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("another session's revocation made identity be asked again (%d calls)", n)
	}
	f.feed <- &identityv1.WatchRevocationsResponse{Revoked: &identityv1.WatchRevocationsResponse_UserId{UserId: 7}}
	f.feed <- live()
	ask(t, c)
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("the user's revocation left the session kept (%d calls)", n)
	}
}

func TestALongerTTLThanThirtySecondsIsRefused(t *testing.T) {
	if _, err := New(&fakeIdentity{}, Config{Size: 10, TTL: time.Minute}, slog.Default()); err == nil {
		t.Fatal("a one-minute TTL was accepted")
	}
}
