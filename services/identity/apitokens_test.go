package identity

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

func TestAnAPITokenActsAsItsServiceAccountUntilRevoked(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	made, err := s.client.CreateApiToken(admin, &identityv1.CreateApiTokenRequest{Name: " Billing sync ", Roles: []string{"viewer"}, ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	token, tk := made.GetToken(), made.GetApiToken()
	if !strings.HasPrefix(token, "crm_") || !strings.HasPrefix(token, tk.GetPrefix()) || len(tk.GetPrefix()) != 8 || tk.GetName() != "Billing sync" ||
		!slices.Equal(tk.GetRoles(), []string{"viewer"}) || tk.GetUserId() == 0 || tk.GetRevokeTime() != nil {
		t.Fatalf("made %v (token %q)", tk, token)
	}
	if got := tk.GetExpireTime().AsTime().Sub(tk.GetCreateTime().AsTime()); got != 30*24*time.Hour {
		t.Fatalf("lasts %v", got)
	}
	// kept only hashed
	var stored []string
	s.db.Table("api_tokens").Pluck("token_hash", &stored)
	if len(stored) != 1 || stored[0] == token || strings.Contains(token, stored[0]) {
		t.Fatalf("stored %v", stored)
	}

	who, err := s.authenticate(token)
	if err != nil {
		t.Fatal(err)
	}
	viewer := s.role("viewer").GetPermissions()
	if who.GetUserId() != tk.GetUserId() || who.GetDisplayName() != "Billing sync" || !slices.Equal(who.GetPermissions(), viewer) || who.GetMustChangePassword() {
		t.Fatalf("the token is %v, want the account %d with the viewer's %v", who, tk.GetUserId(), viewer)
	}
	uses := s.auditEvents(admin, "token.use", 0)
	if len(uses) != 1 || uses[0].GetActorId() != tk.GetUserId() || uses[0].GetClientAddress() != testAddress {
		t.Fatalf("uses audited %v", uses)
	}
	listed, _ := s.client.ListApiTokens(admin, &identityv1.ListApiTokensRequest{})
	if len(listed.GetApiTokens()) != 1 || listed.GetApiTokens()[0].GetLastUseTime() == nil {
		t.Fatalf("listed %v", listed.GetApiTokens())
	}

	// the account is no user: it is not listed and has no password
	users, _ := s.client.ListUsers(admin, &identityv1.ListUsersRequest{PageSize: 200})
	for _, u := range users.GetUsers() {
		if u.GetId() == tk.GetUserId() {
			t.Fatalf("the token's account is listed among the users: %v", u)
		}
	}
	var login string
	s.db.Table("users").Where("id = ?", tk.GetUserId()).Pluck("login", &login)
	for _, pw := range []string{token, "anything-at-all"} {
		_, err := s.login(login, pw)
		wantCode(t, err, codes.Unauthenticated)
	}

	for range 2 { // revoking again answers the same
		got, err := s.client.RevokeApiToken(admin, &identityv1.RevokeApiTokenRequest{Id: tk.GetId()})
		if err != nil || got.GetApiToken().GetRevokeTime() == nil {
			t.Fatalf("revoke: %v, %v", got, err)
		}
	}
	_, err = s.authenticate(token)
	wantCode(t, err, codes.Unauthenticated)
	_, err = s.client.RevokeApiToken(admin, &identityv1.RevokeApiTokenRequest{Id: tk.GetId() + 100})
	wantCode(t, err, codes.NotFound)
	if got := actions(s.auditEvents(admin, "token.", 0)); !slices.Equal(got, []string{"token.revoke", "token.use", "token.create"}) {
		t.Fatalf("audit %v: a revoke already done is not audited again", got)
	}
}

func TestAnExpiredTokenIsRefusedAndBadTokensAreNotMade(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	made, err := s.client.CreateApiToken(admin, &identityv1.CreateApiTokenRequest{Name: "Nightly export", Roles: []string{"viewer"}, ExpiresInDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.authenticate(made.GetToken()); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(24*time.Hour + time.Second)
	_, err = s.authenticate(made.GetToken())
	wantCode(t, err, codes.Unauthenticated)
	for _, bad := range []string{"crm_", "crm_" + strings.Repeat("A", 43), made.GetToken() + "x", strings.TrimPrefix(made.GetToken(), "crm_")} {
		_, err := s.authenticate(bad)
		wantCode(t, err, codes.Unauthenticated)
	}

	for _, tc := range []struct {
		name  string
		req   *identityv1.CreateApiTokenRequest
		field string
	}{
		{"no name", &identityv1.CreateApiTokenRequest{Name: "  ", Roles: []string{"viewer"}, ExpiresInDays: 5}, "name"},
		{"no expiry", &identityv1.CreateApiTokenRequest{Name: "x", Roles: []string{"viewer"}}, "expiresInDays"},
		{"no role", &identityv1.CreateApiTokenRequest{Name: "x", ExpiresInDays: 5}, "roles"},
		{"an unknown role", &identityv1.CreateApiTokenRequest{Name: "x", Roles: []string{"robot"}, ExpiresInDays: 5}, "roles[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.CreateApiToken(admin, tc.req)
			wantField(t, err, tc.field)
		})
	}
	var tokens int64
	s.db.Table("api_tokens").Count(&tokens)
	if tokens != 1 {
		t.Fatalf("%d tokens after the refusals", tokens)
	}
	operator := s.session(s.mustLogin(s.createUser(admin, "olga", "operator-password", "operator").GetLogin(), "operator-password").GetAccessToken())
	_, err = s.client.CreateApiToken(operator, &identityv1.CreateApiTokenRequest{Name: "mine", Roles: []string{"admin"}, ExpiresInDays: 5})
	wantCode(t, err, codes.PermissionDenied)
}
