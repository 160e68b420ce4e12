package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

func TestLoginAnswersWrongLoginAndWrongPasswordAlike(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	off := s.createUser(admin, "retired", "retired-password-1", "viewer")
	if _, err := s.updateUser(admin, &identityv1.User{Id: off.GetId(), Active: ptr(false)}, "active"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, login, password string
	}{
		{"wrong password", "admin", "not-the-password"},
		{"unknown login", "nobody", testAdminPassword},
		{"deactivated user with the right password", "retired", "retired-password-1"},
		{"phone number typed as login", "+79123456789", testAdminPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.login(tc.login, tc.password)
			st := wantCode(t, err, codes.Unauthenticated)
			if st.Message() != wrongCredentials {
				t.Fatalf("message %q, want %q", st.Message(), wrongCredentials)
			}
		})
	}
}

func TestLoginRefusesEmptyFieldsAsBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for _, tc := range []struct {
		name, login, password, field string
	}{
		{"no login", "", "whatever-password", "login"},
		{"blank login", "   ", "whatever-password", "login"},
		{"no password", "admin", "", "password"},
		{"huge password", "admin", strings.Repeat("x", maxPassword+1), "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.login(tc.login, tc.password)
			wantField(t, err, tc.field)
		})
	}
}

func TestLoginOpensASessionAndReturnsTheUser(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	resp, err := s.login(" Admin ", testAdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(resp.GetAccessToken()); err != nil || len(raw) != 32 {
		t.Fatalf("access token %q is not 32 bytes of base64url", resp.GetAccessToken())
	}
	if got, want := resp.GetExpiresAt().AsTime(), s.clock.Now().Add(maxTime); !got.Equal(want) {
		t.Fatalf("expiresAt %v, want %v", got, want)
	}
	u := resp.GetUser()
	if u.GetLogin() != "admin" || u.GetDisplayName() != "Administrator" || !slices.Equal(u.GetRoles(), []string{"admin"}) ||
		!slices.Equal(u.GetGroupIds(), []int64{6}) || !u.GetActive() || u.GetPassword() != "" {
		t.Fatalf("user %v", u)
	}
	var stored int64
	s.db.Table("sessions").Where("token_hash = ?", resp.GetAccessToken()).Count(&stored)
	if stored != 0 {
		t.Fatal("the token itself is stored; only its hash may be")
	}
}

func TestAuthenticateResolvesATokenToItsUser(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	token := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	a, err := s.authenticate(token)
	if err != nil {
		t.Fatal(err)
	}
	if a.GetLogin() != "admin" || a.GetUserId() == 0 || a.GetSessionId() == "" || len(a.GetPermissions()) != 13 || !slices.Equal(a.GetGroupIds(), []int64{6}) {
		t.Fatalf("authenticated %v", a)
	}
	if got, want := a.GetExpiresAt().AsTime(), s.clock.Now().Add(idleTime); !got.Equal(want) {
		t.Fatalf("expiresAt %v, want the idle end %v", got, want)
	}
	for _, bad := range []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "not-a-token"},
		{"well formed but unknown", base64.RawURLEncoding.EncodeToString(make([]byte, 32))},
		{"another's token with a byte changed", token[:len(token)-2] + flip(token[len(token)-2:])},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := s.authenticate(bad.token)
			wantCode(t, err, codes.Unauthenticated)
		})
	}
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestAuthenticateIsForServicesOnly(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	token := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	_, err := s.client.Authenticate(s.session(token), &identityv1.AuthenticateRequest{AccessToken: token})
	wantCode(t, err, codes.PermissionDenied)
}

func TestSessionEndsAfterIdleTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		steps []time.Duration // pauses, each followed by a use
		alive bool
	}{
		{"used just before the idle time", []time.Duration{idleTime - time.Second}, true},
		{"unused for the idle time", []time.Duration{idleTime}, false},
		{"kept alive by use past the idle time", []time.Duration{time.Hour, time.Hour, time.Hour, time.Hour}, true},
		{"idle after use", []time.Duration{time.Hour, idleTime + time.Minute}, false},
		{"a use within touchEvery of the last write is not written", []time.Duration{touchEvery - time.Second, idleTime - touchEvery + 2*time.Second}, false},
		{"a use touchEvery after the last write is written", []time.Duration{touchEvery, idleTime - touchEvery + 2*time.Second}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			token := s.mustLogin("admin", testAdminPassword).GetAccessToken()
			var err error
			for _, pause := range tc.steps {
				s.clock.Advance(pause)
				_, err = s.authenticate(token)
			}
			if tc.alive && err != nil {
				t.Fatalf("session ended: %v", err)
			}
			if !tc.alive {
				wantCode(t, err, codes.Unauthenticated)
			}
		})
	}
}

func TestSessionEndsAtItsAbsoluteExpiryEvenWhenUsed(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	token := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	for used := time.Duration(0); used < maxTime-time.Hour; used += time.Hour {
		s.clock.Advance(time.Hour)
		if _, err := s.authenticate(token); err != nil {
			t.Fatalf("after %v: %v", used+time.Hour, err)
		}
	}
	s.clock.Advance(59 * time.Minute)
	a, err := s.authenticate(token)
	if err != nil {
		t.Fatalf("a minute before the end: %v", err)
	}
	if got, want := a.GetExpiresAt().AsTime(), time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC).Add(maxTime); !got.Equal(want) {
		t.Fatalf("expiresAt %v near the end, want the absolute end %v", got, want)
	}
	s.clock.Advance(time.Minute)
	_, err = s.authenticate(token)
	wantCode(t, err, codes.Unauthenticated)
}

func TestLogoutEndsOnlyTheCallersSession(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	first := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	second := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	if _, err := s.client.Logout(s.session(first), &identityv1.LogoutRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.authenticate(first)
	wantCode(t, err, codes.Unauthenticated)
	if _, err := s.authenticate(second); err != nil {
		t.Fatalf("the other session ended too: %v", err)
	}
}

func TestLogoutWithoutASessionIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, err := s.client.Logout(service(), &identityv1.LogoutRequest{})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = s.client.Logout(context.Background(), &identityv1.LogoutRequest{})
	wantCode(t, err, codes.Unauthenticated)
}

func TestDeactivatingAUserEndsAllTheirSessions(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "ivan", "ivan-password-01", "operator")
	tokens := []string{s.mustLogin("ivan", "ivan-password-01").GetAccessToken(), s.mustLogin("ivan", "ivan-password-01").GetAccessToken()}
	if _, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), Active: ptr(false)}, "active"); err != nil {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		if _, err := s.authenticate(tok); err == nil {
			t.Fatalf("session %d still works after deactivation", i)
		}
	}
	var left int64
	s.db.Table("sessions").Where("user_id = ?", u.GetId()).Count(&left)
	if left != 0 {
		t.Fatalf("%d sessions left in the table", left)
	}
}

func TestChangingAPasswordEndsTheOtherSessions(t *testing.T) {
	t.Parallel()
	t.Run("users changing their own keep the session they do it from", func(t *testing.T) {
		s := newStack(t)
		current := s.mustLogin("admin", testAdminPassword).GetAccessToken()
		other := s.mustLogin("admin", testAdminPassword).GetAccessToken()
		me := s.session(current)
		u, err := s.client.GetMe(me, &identityv1.GetMeRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.updateUser(me, &identityv1.User{Id: u.GetUser().GetId(), Password: "a-brand-new-password"}, "password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.authenticate(current); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		_, err = s.authenticate(other)
		wantCode(t, err, codes.Unauthenticated)
		_, err = s.login("admin", testAdminPassword)
		wantCode(t, err, codes.Unauthenticated)
		s.mustLogin("admin", "a-brand-new-password")
	})
	t.Run("an admin changing another's ends all of theirs", func(t *testing.T) {
		s := newStack(t)
		admin := s.admin()
		u := s.createUser(admin, "olga", "olga-password-01", "viewer")
		tok := s.mustLogin("olga", "olga-password-01").GetAccessToken()
		if _, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), Password: "olga-password-02"}, "password"); err != nil {
			t.Fatal(err)
		}
		_, err := s.authenticate(tok)
		wantCode(t, err, codes.Unauthenticated)
	})
}

func TestThrottleRefusesEvenTheRightPasswordAfterTenFailures(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for i := range throttleAfter {
		_, err := s.login("admin", "wrong-password")
		if st := wantCode(t, err, codes.Unauthenticated); st == nil {
			t.Fatalf("failure %d", i+1)
		}
	}
	_, err := s.login("admin", testAdminPassword)
	if wait := retryAfter(t, err); wait != time.Second {
		t.Fatalf("first wait %v, want 1s", wait)
	}
	st := wantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(st.Message(), "wait 1 s") {
		t.Fatalf("message %q does not say how long to wait", st.Message())
	}
	s.clock.Advance(time.Second)
	if _, err := s.loginFrom("198.51.100.1", "admin", testAdminPassword); err != nil {
		t.Fatalf("after the wait the right password is refused: %v", err)
	}
	// The success cleared the account's count: one failure is just a failure.
	_, err = s.loginFrom("198.51.100.1", "admin", "wrong-password")
	wantCode(t, err, codes.Unauthenticated)
	s.mustLogin2(t, "198.51.100.1")
}

func (s *stack) mustLogin2(t *testing.T, addr string) {
	t.Helper()
	if _, err := s.loginFrom(addr, "admin", testAdminPassword); err != nil {
		t.Fatalf("login from %s: %v", addr, err)
	}
}

func TestThrottleDelayDoublesAndIsCapped(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for range throttleAfter {
		_, _ = s.loginFrom("", "admin", "wrong-password")
	}
	want := time.Second
	for i := 0; i < 14; i++ {
		_, err := s.loginFrom("", "admin", testAdminPassword)
		got := retryAfter(t, err)
		if got != want {
			t.Fatalf("wait %d: %v, want %v", i+1, got, want)
		}
		s.clock.Advance(got)
		_, err = s.loginFrom("", "admin", "wrong-password")
		wantCode(t, err, codes.Unauthenticated)
		want = min(want*2, throttleCap)
	}
	if want != throttleCap {
		t.Fatalf("the delay never reached the cap: %v", want)
	}
	_, err := s.loginFrom("", "admin", testAdminPassword)
	st := wantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(st.Message(), "wait 15 min") {
		t.Fatalf("message %q", st.Message())
	}
	s.clock.Advance(throttleCap)
	if _, err := s.loginFrom("", "admin", testAdminPassword); err != nil {
		t.Fatalf("after the capped wait: %v", err)
	}
}

func TestThrottleSlowsAnAddressDownButLetsTheRightPasswordIn(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	s.createUser(admin, "anna", "anna-password-01", "viewer")
	// One client behind the office's proxy guesses at many logins.
	const proxy, other = "192.0.2.66", "192.0.2.77"
	for i := range addressAfter {
		_, err := s.loginFrom(proxy, fmt.Sprintf("guess%02d", i), "wrong-password")
		wantCode(t, err, codes.Unauthenticated)
	}
	s.held.took()
	if _, err := s.loginFrom(proxy, "anna", "anna-password-01"); err != nil {
		t.Fatalf("the right password from a slowed-down address is refused: %v", err)
	}
	if got := s.held.took(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Fatalf("the attempt was held %v, want 1s", got)
	}
	// The success took back only its own attempt: the address stays slow.
	_, err := s.loginFrom(proxy, "guess-again", "wrong-password")
	wantCode(t, err, codes.Unauthenticated)
	if got := s.held.took(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Fatalf("the next attempt was held %v, want 1s", got)
	}
	for range 20 {
		_, _ = s.loginFrom(proxy, "guess-more", "wrong-password")
	}
	if got := s.held.took(); slices.Max(got) != addressDelayCap {
		t.Fatalf("the longest hold %v, want the cap %v", slices.Max(got), addressDelayCap)
	}
	if _, err := s.loginFrom(other, "anna", "anna-password-01"); err != nil {
		t.Fatalf("another address is throttled too: %v", err)
	}
	if got := s.held.took(); len(got) != 0 {
		t.Fatalf("another address was held %v", got)
	}
}

func TestThrottleHoldsAcrossServerRestarts(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for range throttleAfter {
		_, _ = s.login("admin", "wrong-password")
	}
	again := newStackOn(t, s.db, nil, func(_ *Config, d *Deps) { d.Now = s.clock.Now })
	_, err := again.login("admin", testAdminPassword)
	retryAfter(t, err)
}

func TestForgedPrincipalsAreUnauthenticated(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	forger := auth.NewKeyring([]byte("another-key-entirely-0123456789abcdef"))
	p := auth.Principal{UserID: 1, Login: "admin", Permissions: []string{"users.manage"}, SessionID: "1"}
	body, _ := json.Marshal(auth.Principal{UserID: 1, Login: "admin", Permissions: []string{"users.manage"}, Expires: time.Now().Add(time.Hour).Unix()})
	for _, tc := range []struct{ name, header string }{
		{"signed with another key", forger.Sign(p, "identity", time.Hour)},
		{"plain unsigned principal", base64.RawURLEncoding.EncodeToString(body)},
		{"unsigned principal with an empty signature", base64.RawURLEncoding.EncodeToString(body) + "."},
		{"expired, correctly signed", s.keys.Sign(p, "identity", -time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(context.Background(), auth.Header, tc.header)
			_, err := s.client.ListUsers(ctx, &identityv1.ListUsersRequest{})
			wantCode(t, err, codes.Unauthenticated)
			_, err = s.client.GetMe(ctx, &identityv1.GetMeRequest{})
			wantCode(t, err, codes.Unauthenticated)
		})
	}
}

func TestThrottleLetsOneOfAParallelBurstThrough(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for range throttleAfter {
		_, _ = s.loginFrom("", "admin", "wrong-password")
	}
	s.clock.Advance(time.Second)
	const burst = 8
	got := make(chan codes.Code, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			_, err := s.loginFrom("", "admin", "wrong-password")
			got <- status.Code(err)
		})
	}
	wg.Wait()
	close(got)
	count := map[codes.Code]int{}
	for c := range got {
		count[c]++
	}
	if count[codes.Unauthenticated] != 1 || count[codes.ResourceExhausted] != burst-1 {
		t.Fatalf("a burst of %d got %v; want one guess, the rest told to wait", burst, count)
	}
}

func TestThrottleGivesAParallelBurstNoMoreGuessesThanTheLimit(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	const burst = 3 * throttleAfter
	got := make(chan codes.Code, burst)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			<-start
			_, err := s.loginFrom("", "admin", "wrong-password")
			got <- status.Code(err)
		})
	}
	close(start)
	wg.Wait()
	close(got)
	count := map[codes.Code]int{}
	for c := range got {
		count[c]++
	}
	if count[codes.Unauthenticated] != throttleAfter || count[codes.ResourceExhausted] != burst-throttleAfter {
		t.Fatalf("a burst of %d wrong guesses got %v; want %d checked, the rest told to wait", burst, count, throttleAfter)
	}
	var failures int32
	s.db.Table("login_throttles").Where("subject = ?", accountSubject("admin")).Pluck("failures", &failures)
	if failures != throttleAfter {
		t.Fatalf("%d failures counted, want %d", failures, throttleAfter)
	}
}

func TestPasswordChecksWaitForAFreeHashingSlotNoLongerThanTheRequest(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	if n := cap(s.srv.hashing); n < 2 || n > max(2, runtime.GOMAXPROCS(0)) {
		t.Fatalf("%d hashing slots, want about GOMAXPROCS (%d)", n, runtime.GOMAXPROCS(0))
	}
	// Every slot busy, as under a burst of sign-ins.
	for range cap(s.srv.hashing) {
		s.srv.hashing <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := s.client.Login(ctx, &identityv1.LoginRequest{Login: "admin", Password: testAdminPassword})
	if code := status.Code(err); code != codes.DeadlineExceeded {
		t.Fatalf("a sign-in with every hashing slot busy got %v, want it to wait until its deadline", err)
	}
	if waited := time.Since(began); waited > 5*time.Second {
		t.Fatalf("the sign-in waited %v, past its deadline", waited)
	}
	for range cap(s.srv.hashing) {
		<-s.srv.hashing
	}
	s.clock.Advance(time.Hour)
	s.mustLogin("admin", testAdminPassword)
}
