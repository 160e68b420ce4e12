package identity

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/auth/sessioncache"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// countingIdentity is the gateway's connection to the identity service,
// counting the Authenticate calls that reach it.
type countingIdentity struct {
	identityv1.IdentityServiceClient
	calls atomic.Int64
}

func (c *countingIdentity) Authenticate(ctx context.Context, in *identityv1.AuthenticateRequest, opts ...grpc.CallOption) (*identityv1.AuthenticateResponse, error) {
	c.calls.Add(1)
	return c.IdentityServiceClient.Authenticate(ctx, in, opts...)
}

// gatewayCache is a session cache as the gateway keeps one in front of
// the stack's service, following its revocations until the test ends.
func (s *stack) gatewayCache(ttl time.Duration) (*sessioncache.Cache, *countingIdentity) {
	s.t.Helper()
	id := &countingIdentity{IdentityServiceClient: identityv1.NewIdentityServiceClient(servicetest.DialAs(s.t, s.addr, "gateway"))}
	c, err := sessioncache.New(id, sessioncache.Config{Size: 100, TTL: ttl}, servicetest.Logger())
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Watch(ctx) }()
	s.t.Cleanup(func() { cancel(); <-done })
	if ttl > 0 {
		waitFor(s.t, 5*time.Second, "the revocation stream to go live", c.Live)
	}
	return c, id
}

func waitFor(t testing.TB, limit time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > limit {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func gatewayAsk(c *sessioncache.Cache, token string) (*identityv1.AuthenticateResponse, error) {
	return c.Authenticate(context.Background(), &identityv1.AuthenticateRequest{AccessToken: token, ClientAddress: testAddress})
}

func TestACachedSessionIsAnsweredWithoutAskingTheIdentityService(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c, id := s.gatewayCache(sessioncache.MaxTTL)
	token := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	first, err := gatewayAsk(c, token)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := gatewayAsk(c, token)
		if err != nil {
			t.Fatal(err)
		}
		if again.GetUserId() != first.GetUserId() || again.GetSessionId() != first.GetSessionId() {
			t.Fatalf("the cache answered %v, identity %v", again, first)
		}
	}
	if n := id.calls.Load(); n != 1 {
		t.Fatalf("identity was asked %d times for 21 requests, want once", n)
	}
	if _, err := gatewayAsk(c, "not-a-token"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a bad token: %v, want Unauthenticated", err)
	}
	if _, err := gatewayAsk(c, "not-a-token"); status.Code(err) != codes.Unauthenticated || id.calls.Load() != 3 {
		t.Fatalf("a refusal is not kept: %v after %d calls", err, id.calls.Load())
	}
}

func TestAnApiTokenIsAskedAboutOnEveryUse(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c, id := s.gatewayCache(sessioncache.MaxTTL)
	tk, err := s.client.CreateApiToken(s.admin(), &identityv1.CreateApiTokenRequest{Name: "Billing sync", Roles: []string{"viewer"}, ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := gatewayAsk(c, tk.GetToken()); err != nil {
			t.Fatal(err)
		}
	}
	if n := id.calls.Load(); n != 3 {
		t.Fatalf("identity was asked %d times for 3 uses, want each (every use is audited)", n)
	}
}

// revokedWithin asks the cache for token until it is refused and returns
// how long that took after revoke returned.
func revokedWithin(t *testing.T, c *sessioncache.Cache, token string, revoke func()) time.Duration {
	t.Helper()
	if _, err := gatewayAsk(c, token); err != nil {
		t.Fatalf("before: %v", err)
	}
	revoke()
	return waitFor(t, 5*time.Second, "the cache to refuse the revoked session", func() bool {
		_, err := gatewayAsk(c, token)
		if err != nil && status.Code(err) != codes.Unauthenticated {
			t.Fatalf("after: %v, want Unauthenticated", err)
		}
		return err != nil
	})
}

func TestARevokedSessionStopsAtTheGatewayWithinOneSecond(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// revoke ends the session of token (the user's, logged in as
		// login) through the API.
		revoke func(s *stack, user *identityv1.User, token string)
	}{
		{"logout", func(s *stack, _ *identityv1.User, token string) {
			if _, err := s.client.Logout(s.session(token), &identityv1.LogoutRequest{}); err != nil {
				s.t.Fatal(err)
			}
		}},
		{"the user's new password, from another session", func(s *stack, u *identityv1.User, _ string) {
			other := s.mustLogin(u.GetLogin(), "first-password-123").GetAccessToken()
			if _, err := s.client.ChangePassword(s.session(other), &identityv1.ChangePasswordRequest{CurrentPassword: "first-password-123", NewPassword: "second-password-456"}); err != nil {
				s.t.Fatal(err)
			}
		}},
		{"a password set by an admin", func(s *stack, u *identityv1.User, _ string) {
			if _, err := s.updateUser(s.admin(), &identityv1.User{Id: u.GetId(), Password: "set-by-admin-789"}, "password"); err != nil {
				s.t.Fatal(err)
			}
		}},
		{"deactivation", func(s *stack, u *identityv1.User, _ string) {
			if _, err := s.updateUser(s.admin(), &identityv1.User{Id: u.GetId(), Active: ptr(false)}, "active"); err != nil {
				s.t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			c, _ := s.gatewayCache(sessioncache.MaxTTL)
			u := s.createUser(s.admin(), "ivanov", "first-password-123", "operator")
			token := s.mustLogin("ivanov", "first-password-123").GetAccessToken()
			took := revokedWithin(t, c, token, func() { tc.revoke(s, u, token) })
			t.Logf("refused %s after the revocation", took)
			if took > time.Second {
				t.Fatalf("the revoked session worked for %s, want under 1s", took)
			}
		})
	}
}

func TestChangedRightsReachTheGatewayWithinOneSecond(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c, _ := s.gatewayCache(sessioncache.MaxTTL)
	admin := s.admin()
	u := s.createUser(admin, "petrov", "first-password-123", "viewer")
	token := s.mustLogin("petrov", "first-password-123").GetAccessToken()
	seen := func(ok func(*identityv1.AuthenticateResponse) bool) func() bool {
		return func() bool {
			a, err := gatewayAsk(c, token)
			if err != nil {
				t.Fatal(err)
			}
			return ok(a)
		}
	}
	if _, err := gatewayAsk(c, token); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		what   string
		change func()
		ok     func(*identityv1.AuthenticateResponse) bool
	}{
		{"a new role's permission", func() {
			if _, err := s.client.CreateRole(admin, &identityv1.CreateRoleRequest{Role: &identityv1.Role{Name: "night-shift", Permissions: []string{"customers.read", "customers.write"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), Roles: []string{"viewer", "night-shift"}}, "roles"); err != nil {
				t.Fatal(err)
			}
		}, func(a *identityv1.AuthenticateResponse) bool {
			return slices.Contains(a.GetPermissions(), "customers.write")
		}},
		{"a group joined", func() {
			if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: 1, UserId: u.GetId()}); err != nil {
				t.Fatal(err)
			}
		}, func(a *identityv1.AuthenticateResponse) bool { return slices.Contains(a.GetGroupIds(), 1) }},
		{"a group left", func() {
			if _, err := s.client.RemoveGroupMember(admin, &identityv1.RemoveGroupMemberRequest{GroupId: 1, UserId: u.GetId()}); err != nil {
				t.Fatal(err)
			}
		}, func(a *identityv1.AuthenticateResponse) bool { return !slices.Contains(a.GetGroupIds(), 1) }},
		{"a permission taken from the role", func() {
			if _, err := s.client.UpdateRole(admin, &identityv1.UpdateRoleRequest{Name: "night-shift", Role: &identityv1.Role{Permissions: []string{"customers.read"}}}); err != nil {
				t.Fatal(err)
			}
		}, func(a *identityv1.AuthenticateResponse) bool {
			return !slices.Contains(a.GetPermissions(), "customers.write")
		}},
	}
	for _, step := range steps {
		step.change()
		took := waitFor(t, 5*time.Second, step.what, seen(step.ok))
		if took > time.Second {
			t.Fatalf("%s reached the gateway after %s, want under 1s", step.what, took)
		}
	}
}

func TestALostRevocationStreamFailsClosed(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	c, id := s.gatewayCache(sessioncache.MaxTTL)
	token := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	if _, err := gatewayAsk(c, token); err != nil {
		t.Fatal(err)
	}
	// The replica stops hearing revocations (on PostgreSQL: its LISTEN
	// connection is cut).
	s.loseRevocations()
	waitFor(t, 5*time.Second, "the cache to notice the stream is gone", func() bool { return !c.Live() })
	before := id.calls.Load()
	for range 3 {
		if _, err := gatewayAsk(c, token); err != nil {
			t.Fatal(err)
		}
	}
	if n := id.calls.Load() - before; n != 3 {
		t.Fatalf("without the stream identity was asked %d times for 3 requests, want each", n)
	}
	waitFor(t, 10*time.Second, "the stream to come back", c.Live)
	before = id.calls.Load()
	for range 3 {
		if _, err := gatewayAsk(c, token); err != nil {
			t.Fatal(err)
		}
	}
	if n := id.calls.Load() - before; n != 1 {
		t.Fatalf("with the stream back identity was asked %d times for 3 requests, want once", n)
	}
}

// loseRevocations makes the service lose what tells it of revocations for
// a moment: its PostgreSQL listener's connection, or on SQLite its state
// of hearing them.
func (s *stack) loseRevocations() {
	s.t.Helper()
	if !servicetest.OnPostgres() {
		s.srv.revocations.setLive(false)
		go func() {
			time.Sleep(300 * time.Millisecond)
			s.srv.revocations.setLive(true)
		}()
		return
	}
	var cut int
	err := s.db.Raw(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = ?`, "LISTEN "+revocationChannel).Scan(&cut).Error
	if err != nil || cut != 1 {
		s.t.Fatalf("cutting the LISTEN connection: %d cut, %v", cut, err)
	}
}

// BenchmarkAuthenticatedRequest times a request's authentication and a
// one-query read it then makes (ListPermissions as the signed-in admin),
// with the session answered from the gateway's cache and asked of the
// identity service every time, and prints how the two compare.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	perOp := map[string]time.Duration{}
	for _, ttl := range []time.Duration{0, sessioncache.MaxTTL} {
		name := "uncached"
		if ttl > 0 {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			s := newStack(b)
			c, _ := s.gatewayCache(ttl)
			token := s.mustLogin("admin", testAdminPassword).GetAccessToken()
			keys := auth.NewKeyring(servicetest.Key)
			b.ResetTimer()
			for b.Loop() {
				a, err := gatewayAsk(c, token)
				if err != nil {
					b.Fatal(err)
				}
				p := auth.Principal{UserID: a.GetUserId(), Login: a.GetLogin(), Permissions: a.GetPermissions(), Groups: a.GetGroupIds(), SessionID: a.GetSessionId()}
				ctx := metadata.AppendToOutgoingContext(context.Background(), auth.Header, keys.Sign(p, "identity", time.Minute))
				if _, err := s.client.ListPermissions(ctx, &identityv1.ListPermissionsRequest{}); err != nil {
					b.Fatal(err)
				}
			}
			perOp[name] = b.Elapsed() / time.Duration(b.N)
		})
	}
	if perOp["cached"] > 0 && perOp["uncached"] > 0 {
		store := "SQLite"
		if servicetest.OnPostgres() {
			store = "PostgreSQL"
		}
		fmt.Printf("authenticated request: cached %s, uncached %s, cached/uncached %.2f (%s)\n",
			perOp["cached"], perOp["uncached"], float64(perOp["cached"])/float64(perOp["uncached"]), store)
	}
}
