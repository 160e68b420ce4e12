package identity

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

func (s *stack) role(name string) *identityv1.Role {
	s.t.Helper()
	resp, err := s.client.ListRoles(s.admin(), &identityv1.ListRolesRequest{})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, r := range resp.GetRoles() {
		if r.GetName() == name {
			return r
		}
	}
	return nil
}

func TestAdminsMakeRolesOfPermissionsAndTheirHoldersGetThem(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	made, err := s.client.CreateRole(admin, &identityv1.CreateRoleRequest{Role: &identityv1.Role{
		Name: " Night-Shift ", Description: " Nights: read and work tasks ", Permissions: []string{"tasks.read", "tasks.work", "tasks.read"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := made.GetRole(); r.GetName() != "night-shift" || r.GetDescription() != "Nights: read and work tasks" || !slices.Equal(r.GetPermissions(), []string{"tasks.read", "tasks.work"}) {
		t.Fatalf("made %v", r)
	}
	s.createUser(admin, "nina", "night-shift-password", "night-shift")
	who, err := s.authenticate(s.mustLogin("nina", "night-shift-password").GetAccessToken())
	if err != nil || !slices.Equal(who.GetPermissions(), []string{"tasks.read", "tasks.work"}) {
		t.Fatalf("a holder's permissions %v: %v", who.GetPermissions(), err)
	}
	if r := s.role("night-shift"); r.GetBuiltIn() || r.GetUserCount() != 1 {
		t.Fatalf("listed as %v", r)
	}
	if r := s.role("operator"); !r.GetBuiltIn() {
		t.Fatalf("operator listed as %v", r)
	}

	// a change reaches the holder at their next request
	if _, err := s.client.UpdateRole(admin, &identityv1.UpdateRoleRequest{Name: "night-shift", Role: &identityv1.Role{Permissions: []string{"tasks.read", "tasks.work", "customers.read"}}}); err != nil {
		t.Fatal(err)
	}
	token := s.mustLogin("nina", "night-shift-password").GetAccessToken()
	if who, _ := s.authenticate(token); !slices.Contains(who.GetPermissions(), "customers.read") {
		t.Fatalf("after the change: %v", who.GetPermissions())
	}

	// a role held is not removed; once nobody holds it, it is
	_, err = s.client.DeleteRole(admin, &identityv1.DeleteRoleRequest{Name: "night-shift"})
	if st := wantCode(t, err, codes.FailedPrecondition); !strings.Contains(st.Message(), "1 users hold") {
		t.Fatalf("message %q", st.Message())
	}
	nina := s.role("night-shift")
	users, _ := s.client.ListUsers(admin, &identityv1.ListUsersRequest{Query: "nina"})
	u := users.GetUsers()[0]
	u.Roles = []string{"viewer"}
	if _, err := s.updateUser(admin, u, "roles"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.DeleteRole(admin, &identityv1.DeleteRoleRequest{Name: "night-shift"}); err != nil {
		t.Fatal(err)
	}
	if r := s.role("night-shift"); r != nil || nina == nil {
		t.Fatalf("after removal: %v (before %v)", r, nina)
	}
	var links int64
	s.db.Table("role_permissions").Where("role_name = ?", "night-shift").Count(&links)
	if links != 0 {
		t.Fatalf("%d permission links left", links)
	}
	evs := s.auditEvents(admin, "role.", 0)
	if got := actions(evs); !slices.Equal(got, []string{"role.delete", "role.update", "role.create"}) {
		t.Fatalf("audit %v", got)
	}
	if p := evs[1].GetDetailParams(); evs[1].GetDetailCode() != "role_changed" || p["before"] != "tasks.read, tasks.work" || p["after"] != "tasks.read, tasks.work, customers.read" {
		t.Fatalf("the change's entry %v", evs[1])
	}
}

func TestBuiltInRolesStayAndBadRolesAreRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	perms := []string{"tasks.read"}
	_, err := s.client.UpdateRole(admin, &identityv1.UpdateRoleRequest{Name: "admin", Role: &identityv1.Role{Permissions: perms}})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = s.client.DeleteRole(admin, &identityv1.DeleteRoleRequest{Name: "Operator"})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = s.client.CreateRole(admin, &identityv1.CreateRoleRequest{Role: &identityv1.Role{Name: "supervisor", Permissions: perms}})
	wantCode(t, err, codes.AlreadyExists)
	_, err = s.client.UpdateRole(admin, &identityv1.UpdateRoleRequest{Name: "nobody", Role: &identityv1.Role{Permissions: perms}})
	wantCode(t, err, codes.NotFound)
	for _, tc := range []struct {
		name  string
		role  *identityv1.Role
		field string
	}{
		{"a name with spaces", &identityv1.Role{Name: "night shift", Permissions: perms}, "name"},
		{"a name in Cyrillic", &identityv1.Role{Name: "ночь", Permissions: perms}, "name"},
		{"no permissions", &identityv1.Role{Name: "empty"}, "permissions"},
		{"an unknown permission", &identityv1.Role{Name: "odd", Permissions: []string{"tasks.read", "tasks.fly"}}, "permissions[1]"},
		{"a description too long", &identityv1.Role{Name: "wordy", Description: strings.Repeat("д", 201), Permissions: perms}, "description"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.CreateRole(admin, &identityv1.CreateRoleRequest{Role: tc.role})
			wantField(t, err, tc.field)
		})
	}
	if r := s.role("admin"); !r.GetBuiltIn() || len(r.GetPermissions()) < 10 {
		t.Fatalf("admin is %v", r)
	}
	var roles int64
	s.db.Table("roles").Count(&roles)
	if roles != 5 {
		t.Fatalf("%d roles after refusals, want the five built-in", roles)
	}
	operator := s.session(s.mustLogin(s.createUser(admin, "olga", "operator-password", "operator").GetLogin(), "operator-password").GetAccessToken())
	_, err = s.client.CreateRole(operator, &identityv1.CreateRoleRequest{Role: &identityv1.Role{Name: "mine", Permissions: perms}})
	wantCode(t, err, codes.PermissionDenied)
}

func TestAUserUnlinksTheirOwnTelegramFromTheProfile(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.createUser(s.admin(), "ivan", "ivan-password-1", "engineer")
	s.linkTelegram("ivan", "ivan-password-1", 4242)
	me := s.session(s.mustLogin("ivan", "ivan-password-1").GetAccessToken())
	for range 2 { // the second changes nothing
		if _, err := s.client.UnlinkMyTelegram(me, &identityv1.UnlinkMyTelegramRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.client.GetMe(me, &identityv1.GetMeRequest{})
	if err != nil || got.GetUser().GetTelegramLinked() {
		t.Fatalf("me after unlinking: %v, %v", got.GetUser(), err)
	}
	_, err = s.client.ResolveTelegramChat(service(), &identityv1.ResolveTelegramChatRequest{ChatId: 4242})
	wantCode(t, err, codes.NotFound)
	if got := actions(s.auditEvents(s.admin(), "telegram.unlink", 0)); len(got) != 1 {
		t.Fatalf("audit %v, want one unlink", got)
	}
}
