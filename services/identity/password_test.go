package identity

import (
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// newStackMustChange is a stack whose first admin must change the
// configured password, as in production.
func newStackMustChange(t *testing.T) *stack {
	t.Helper()
	db := servicetest.OpenDB(t, servicetest.Common(t), Name, migrations(&seed{adminPassword: testAdminPassword, now: time.Now, argon: cheapArgon}))
	return newStackOn(t, db, nil)
}

func reason(t *testing.T, err error, code codes.Code) string {
	t.Helper()
	st := wantCode(t, err, code)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func TestFirstAdminCanOnlyChangeThePasswordUntilItIsChanged(t *testing.T) {
	t.Parallel()
	s := newStackMustChange(t)
	login := s.mustLogin("admin", testAdminPassword)
	if !login.GetMustChangePassword() {
		t.Fatal("login does not say the password must be changed")
	}
	ctx := s.session(login.GetAccessToken())
	me, err := s.client.GetMe(ctx, &identityv1.GetMeRequest{})
	if err != nil {
		t.Fatalf("me is refused before the change: %v", err)
	}
	if !me.GetMustChangePassword() {
		t.Fatal("me does not say the password must be changed")
	}
	for name, call := range map[string]func() error{
		"ListUsers":     func() error { _, err := s.client.ListUsers(ctx, &identityv1.ListUsersRequest{}); return err },
		"UpdateProfile": func() error { _, err := s.client.UpdateProfile(ctx, &identityv1.UpdateProfileRequest{}); return err },
		"CreateTelegramLink": func() error {
			_, err := s.client.CreateTelegramLink(ctx, &identityv1.CreateTelegramLinkRequest{})
			return err
		},
		"ListRoles": func() error { _, err := s.client.ListRoles(ctx, &identityv1.ListRolesRequest{}); return err },
	} {
		if got := reason(t, call(), codes.PermissionDenied); got != "PASSWORD_CHANGE_REQUIRED" {
			t.Fatalf("%s refused with reason %q, want PASSWORD_CHANGE_REQUIRED", name, got)
		}
	}
	if _, err := s.client.ChangePassword(ctx, &identityv1.ChangePasswordRequest{CurrentPassword: testAdminPassword, NewPassword: "only-i-know-this-one"}); err != nil {
		t.Fatalf("change password: %v", err)
	}
	// The same session, resolved again, may now do everything.
	after := s.session(login.GetAccessToken())
	if _, err := s.client.ListUsers(after, &identityv1.ListUsersRequest{}); err != nil {
		t.Fatalf("after the change: %v", err)
	}
	if me, _ := s.client.GetMe(after, &identityv1.GetMeRequest{}); me.GetMustChangePassword() {
		t.Fatal("me still says the password must be changed")
	}
	if resp := s.mustLogin("admin", "only-i-know-this-one"); resp.GetMustChangePassword() {
		t.Fatal("a new sign-in must change the password again")
	}
}

func TestChangePasswordChecksTheCurrentOneAndEndsTheOtherSessions(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	current := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	other := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	ctx := s.session(current)
	change := func(cur, next string) error {
		_, err := s.client.ChangePassword(ctx, &identityv1.ChangePasswordRequest{CurrentPassword: cur, NewPassword: next})
		return err
	}
	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct{ name, cur, next, field string }{
			{"no current password", "", "a-good-new-password", "currentPassword"},
			{"short new password", testAdminPassword, "short", "newPassword"},
			{"the current one again", testAdminPassword, testAdminPassword, "newPassword"},
		} {
			t.Run(tc.name, func(t *testing.T) { wantField(t, change(tc.cur, tc.next), tc.field) })
		}
	})
	t.Run("a wrong current password is refused and counted", func(t *testing.T) {
		wantField(t, change("not-the-password", "a-good-new-password"), "currentPassword")
		var failures int32
		s.db.Table("login_throttles").Where("subject = ?", accountSubject("admin")).Pluck("failures", &failures)
		if failures != 1 {
			t.Fatalf("%d failures counted against the login, want 1", failures)
		}
	})
	t.Run("the right one changes it and ends the other sessions", func(t *testing.T) {
		if err := change(testAdminPassword, "a-good-new-password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.authenticate(current); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		_, err := s.authenticate(other)
		wantCode(t, err, codes.Unauthenticated)
		_, err = s.login("admin", testAdminPassword)
		wantCode(t, err, codes.Unauthenticated)
		s.mustLogin("admin", "a-good-new-password")
	})
}

func TestChangePasswordGuessesAreThrottledLikeSignIns(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := s.session(s.mustLogin("admin", testAdminPassword).GetAccessToken())
	for range throttleAfter {
		_, err := s.client.ChangePassword(ctx, &identityv1.ChangePasswordRequest{CurrentPassword: "a-wrong-guess-0", NewPassword: "a-good-new-password"})
		wantField(t, err, "currentPassword")
	}
	_, err := s.client.ChangePassword(ctx, &identityv1.ChangePasswordRequest{CurrentPassword: testAdminPassword, NewPassword: "a-good-new-password"})
	if wait := retryAfter(t, err); wait != time.Second {
		t.Fatalf("wait %v, want 1s", wait)
	}
}

// The hashes' memory goes back to the system once sign-ins quiet down:
// once for the start's hashes, once after a burst, not once per hash.
func TestPasswordHashMemoryIsGivenBackOnceSignInsQuietDown(t *testing.T) {
	t.Parallel()
	var given atomic.Int32
	db := servicetest.OpenDB(t, servicetest.Common(t), Name, migrations(&seed{adminPassword: testAdminPassword, keepPassword: true, now: time.Now, argon: cheapArgon}))
	s := newStackOn(t, db, nil, func(_ *Config, d *Deps) { d.giveBack = func() { given.Add(1) } })
	waitGiven := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(10 * hashQuiet)
		for given.Load() < want && time.Now().Before(deadline) {
			time.Sleep(hashQuiet / 20)
		}
		if got := given.Load(); got != want {
			t.Fatalf("memory given back %d times; want %d", got, want)
		}
	}
	waitGiven(1)
	for range 3 {
		s.mustLogin("admin", testAdminPassword)
	}
	if _, err := s.login("admin", "not the password at all"); err == nil {
		t.Fatal("a wrong password signed in")
	}
	waitGiven(2)
	time.Sleep(2 * hashQuiet)
	waitGiven(2)
}
