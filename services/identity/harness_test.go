package identity

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"gorm.io/gorm"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// cheapArgon keeps the suite quick under the race detector; one test
// proves the production parameters are OWASP's.
var cheapArgon = argonParams{memory: 64, time: 1, threads: 1, keyLen: 32, saltLen: 16}

const (
	testAdminPassword = "admin-password-0123"
	testAddress       = "203.0.113.7"
	idleTime          = 2 * time.Hour
	maxTime           = 12 * time.Hour
)

// clock is a settable time source shared by the store and the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// stack is an identity service on a real store and gRPC server, reached
// over a real connection, with a clock the test moves.
type stack struct {
	t      testing.TB
	client identityv1.IdentityServiceClient
	clock  *clock
	db     *gorm.DB
	srv    *Server
	keys   *auth.Keyring
	// addr is where the service listens.
	addr string
	// held records the delays a slowed-down address asked for; the test
	// does not sleep them.
	held *delays
}

type delays struct {
	mu sync.Mutex
	d  []time.Duration
}

func (h *delays) sleep(_ context.Context, d time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.d = append(h.d, d)
	return nil
}

// took returns the delays recorded so far and forgets them.
func (h *delays) took() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.d
	h.d = nil
	return out
}

func newStack(t testing.TB) *stack {
	t.Helper()
	db := servicetest.OpenDB(t, servicetest.Common(t), Name, migrations(&seed{adminPassword: testAdminPassword, keepPassword: true, now: time.Now, argon: cheapArgon}))
	return newStackOn(t, db, nil)
}

// newStackOn serves the store db; serve, when set, replaces servicetest's
// server bootstrap (the log-scan test logs into a buffer).
func newStackOn(t testing.TB, db *gorm.DB, serve func(register func(*grpcserver.Server)) string, opts ...func(*Config, *Deps)) *stack {
	t.Helper()
	clk := &clock{t: time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)}
	held := &delays{}
	cfg := Config{SessionIdle: idleTime, SessionMax: maxTime, TelegramBotUsername: "crm_test_bot"}
	deps := Deps{Key: servicetest.Key, Now: clk.Now, argon: cheapArgon, sleep: held.sleep, giveBack: func() {}}
	for _, f := range opts {
		f(&cfg, &deps)
	}
	srv, err := NewServer(db, cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if serve == nil {
		serve = func(register func(*grpcserver.Server)) string { return servicetest.Serve(t, register) }
	}
	addr := serve(func(s *grpcserver.Server) { identityv1.RegisterIdentityServiceServer(s, srv) })
	// Revocations are passed on as in Run; stopped before the server, so
	// its graceful stop does not wait for the streams that watch them.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.revocations.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &stack{
		addr:   addr,
		t:      t,
		client: identityv1.NewIdentityServiceClient(servicetest.Dial(t, addr)),
		clock:  clk,
		db:     db,
		srv:    srv,
		keys:   auth.NewKeyring(servicetest.Key),
		held:   held,
	}
}

// service is a context whose calls come from another service.
func service() context.Context { return servicetest.Service(context.Background(), "gateway") }

// from is a context whose calls carry a client address, as the gateway's do.
func from(ctx context.Context, addr string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, ClientAddressHeader, addr)
}

func (s *stack) login(login, password string) (*identityv1.LoginResponse, error) {
	return s.loginFrom(testAddress, login, password)
}

func (s *stack) loginFrom(addr, login, password string) (*identityv1.LoginResponse, error) {
	ctx := context.Background()
	if addr != "" {
		ctx = from(ctx, addr)
	}
	return s.client.Login(ctx, &identityv1.LoginRequest{Login: login, Password: password})
}

func (s *stack) mustLogin(login, password string) *identityv1.LoginResponse {
	s.t.Helper()
	resp, err := s.login(login, password)
	if err != nil {
		s.t.Fatalf("login %s: %v", login, err)
	}
	return resp
}

// authenticate asks, as the gateway does, who is behind a token.
func (s *stack) authenticate(token string) (*identityv1.AuthenticateResponse, error) {
	return s.client.Authenticate(service(), &identityv1.AuthenticateRequest{AccessToken: token, ClientAddress: testAddress})
}

// session returns a context that acts as the gateway does for a bearer
// token: it authenticates it and forwards the user as a signed principal.
func (s *stack) session(token string) context.Context {
	s.t.Helper()
	a, err := s.authenticate(token)
	if err != nil {
		s.t.Fatalf("authenticate: %v", err)
	}
	p := auth.Principal{UserID: a.GetUserId(), Login: a.GetLogin(), Permissions: a.GetPermissions(), Groups: a.GetGroupIds(), SessionID: a.GetSessionId(),
		MustChangePassword: a.GetMustChangePassword()}
	return from(metadata.AppendToOutgoingContext(context.Background(), auth.Header, s.keys.Sign(p, "identity", time.Minute)), testAddress)
}

// admin is a context of the seeded admin's session.
func (s *stack) admin() context.Context {
	s.t.Helper()
	return s.session(s.mustLogin("admin", testAdminPassword).GetAccessToken())
}

// createUser makes a user through the API and returns it.
func (s *stack) createUser(ctx context.Context, login, password string, roles ...string) *identityv1.User {
	s.t.Helper()
	resp, err := s.client.CreateUser(ctx, &identityv1.CreateUserRequest{User: &identityv1.User{
		Login: login, DisplayName: "User " + login, Password: password, Roles: roles,
	}})
	if err != nil {
		s.t.Fatalf("create user %s: %v", login, err)
	}
	return resp.GetUser()
}

func (s *stack) updateUser(ctx context.Context, u *identityv1.User, paths ...string) (*identityv1.User, error) {
	resp, err := s.client.UpdateUser(ctx, &identityv1.UpdateUserRequest{User: u, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
	return resp.GetUser(), err
}

func wantCode(t *testing.T, err error, want codes.Code) *status.Status {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != want {
		t.Fatalf("got %v (%q), want %v", st.Code(), st.Message(), want)
	}
	return st
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	st := wantCode(t, err, codes.InvalidArgument)
	if !slices.Contains(servicetest.Fields(st.Err()), field) {
		t.Fatalf("violations name %v, want %q (%s)", servicetest.Fields(st.Err()), field, st.Message())
	}
}

// retryAfter is the wait a throttled answer's RetryInfo gives.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	st := wantCode(t, err, codes.ResourceExhausted)
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("no RetryInfo in %v", st.Details())
	return 0
}

func ptr[T any](v T) *T { return &v }

func protoEqual(a, b proto.Message) bool { return proto.Equal(a, b) }
