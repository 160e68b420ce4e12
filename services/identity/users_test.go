package identity

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func TestCreateUserKeepsTheUserWithDefaults(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	resp, err := s.client.CreateUser(admin, &identityv1.CreateUserRequest{User: &identityv1.User{
		Login: "  Petrov.I ", DisplayName: " Ivan Petrov ", Password: "correct horse battery", Roles: []string{"operator", "Engineer", "operator"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	u := resp.GetUser()
	if u.GetId() == 0 || u.GetLogin() != "petrov.i" || u.GetDisplayName() != "Ivan Petrov" || u.GetLanguage() != "ru" ||
		!u.GetActive() || !slices.Equal(u.GetRoles(), []string{"operator", "engineer"}) || u.GetPassword() != "" || u.GetCreateTime() == nil {
		t.Fatalf("created %v", u)
	}
	got, err := s.client.GetUser(admin, &identityv1.GetUserRequest{Id: u.GetId()})
	if err != nil || !protoEqual(got.GetUser(), u) {
		t.Fatalf("get: %v, %v", got.GetUser(), err)
	}
	var hash string
	s.db.Table("users").Where("id = ?", u.GetId()).Pluck("password_hash", &hash)
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "correct horse") {
		t.Fatalf("stored password %q", hash)
	}
	s.mustLogin("PETROV.I", "correct horse battery")

	inactive, err := s.client.CreateUser(admin, &identityv1.CreateUserRequest{User: &identityv1.User{
		Login: "later", DisplayName: "Later", Password: "correct horse battery", Active: ptr(false), Language: "EN",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if inactive.GetUser().GetActive() || inactive.GetUser().GetLanguage() != "en" {
		t.Fatalf("created %v", inactive.GetUser())
	}
}

func TestCreateUserRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	ok := func() *identityv1.User {
		return &identityv1.User{Login: "valid", DisplayName: "Valid", Password: "long-enough-pass", Roles: []string{"viewer"}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(u *identityv1.User)
		field string
	}{
		{"password under 12 characters", func(u *identityv1.User) { u.Password = "elevenchars" }, "password"},
		{"no password", func(u *identityv1.User) { u.Password = "" }, "password"},
		{"login too short", func(u *identityv1.User) { u.Login = "ab" }, "login"},
		{"login too long", func(u *identityv1.User) { u.Login = strings.Repeat("a", 65) }, "login"},
		{"login with a space", func(u *identityv1.User) { u.Login = "ivan petrov" }, "login"},
		{"login with cyrillic", func(u *identityv1.User) { u.Login = "иван" }, "login"},
		{"no display name", func(u *identityv1.User) { u.DisplayName = " " }, "displayName"},
		{"unknown role", func(u *identityv1.User) { u.Roles = []string{"viewer", "wizard"} }, "roles[1]"},
		{"unknown language", func(u *identityv1.User) { u.Language = "de" }, "language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := ok()
			tc.edit(u)
			_, err := s.client.CreateUser(admin, &identityv1.CreateUserRequest{User: u})
			wantField(t, err, tc.field)
		})
	}
	t.Run("missing user", func(t *testing.T) {
		_, err := s.client.CreateUser(admin, &identityv1.CreateUserRequest{})
		wantField(t, err, "user")
	})
	t.Run("the password never appears in the answer", func(t *testing.T) {
		u := ok()
		u.Password = "short-pw"
		_, err := s.client.CreateUser(admin, &identityv1.CreateUserRequest{User: u})
		if st := wantCode(t, err, codes.InvalidArgument); strings.Contains(fmt.Sprint(st.Proto()), "short-pw") {
			t.Fatalf("the answer repeats the password: %v", st.Proto())
		}
	})
}

func TestCreateUserRefusesATakenLogin(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	s.createUser(admin, "maria", "maria-password-1", "viewer")
	_, err := s.client.CreateUser(admin, &identityv1.CreateUserRequest{User: &identityv1.User{Login: "MARIA", DisplayName: "Another", Password: "maria-password-2"}})
	st := wantCode(t, err, codes.AlreadyExists)
	if !slices.Contains(servicetest.Fields(st.Err()), "login") {
		t.Fatalf("conflict names %v", servicetest.Fields(st.Err()))
	}
}

func TestUserRPCsNeedUsersManage(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	viewer := servicetest.User(t.Context(), 99, servicetest.Viewer)
	// Refused before validation: the request is bad too.
	_, err := s.client.CreateUser(viewer, &identityv1.CreateUserRequest{User: &identityv1.User{Login: "x"}})
	wantCode(t, err, codes.PermissionDenied)
	_, err = s.client.ListUsers(viewer, &identityv1.ListUsersRequest{})
	wantCode(t, err, codes.PermissionDenied)
	_, err = s.client.GetUser(viewer, &identityv1.GetUserRequest{Id: 1})
	wantCode(t, err, codes.PermissionDenied)
	_, err = s.client.ListAuditEvents(viewer, &identityv1.ListAuditEventsRequest{})
	wantCode(t, err, codes.PermissionDenied)
}

func TestGetUnknownUserIsNotFound(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, err := s.client.GetUser(s.admin(), &identityv1.GetUserRequest{Id: 4242})
	wantCode(t, err, codes.NotFound)
}

func TestListUsersPagesAndFilters(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	for i := range 5 {
		s.createUser(admin, fmt.Sprintf("install%d", i), "installer-password", "engineer")
	}
	s.createUser(admin, "sales1", "sales-password-1", "operator")
	var logins []string
	token := ""
	pages := 0
	for {
		resp, err := s.client.ListUsers(admin, &identityv1.ListUsersRequest{PageSize: 2, PageToken: token, Query: "INSTALL"})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range resp.GetUsers() {
			logins = append(logins, u.GetLogin())
			if u.GetPassword() != "" {
				t.Fatal("a listed user carries a password")
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if want := []string{"install0", "install1", "install2", "install3", "install4"}; !slices.Equal(logins, want) || pages != 3 {
		t.Fatalf("listed %v in %d pages, want %v in 3", logins, pages, want)
	}
	all, err := s.client.ListUsers(admin, &identityv1.ListUsersRequest{Query: "user sales"})
	if err != nil || len(all.GetUsers()) != 1 || all.GetUsers()[0].GetLogin() != "sales1" {
		t.Fatalf("by display name: %v, %v", all.GetUsers(), err)
	}
	first, _ := s.client.ListUsers(admin, &identityv1.ListUsersRequest{PageSize: 1})
	t.Run("a token of another query is refused", func(t *testing.T) {
		_, err := s.client.ListUsers(admin, &identityv1.ListUsersRequest{PageToken: first.GetNextPageToken(), Query: "x"})
		wantField(t, err, "pageToken")
	})
	t.Run("a tampered token is refused", func(t *testing.T) {
		_, err := s.client.ListUsers(admin, &identityv1.ListUsersRequest{PageToken: first.GetNextPageToken() + "x"})
		wantField(t, err, "pageToken")
	})
}

func TestUpdateUserChangesTheFieldsOfTheMask(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "sergey", "sergey-password1", "viewer")
	got, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), DisplayName: "Sergey K.", Roles: []string{"engineer", "operator"}, Language: "en", Login: "ignored"},
		"display_name", "roles", "language")
	if err != nil {
		t.Fatal(err)
	}
	if got.GetDisplayName() != "Sergey K." || !slices.Equal(got.GetRoles(), []string{"operator", "engineer"}) || got.GetLanguage() != "en" || got.GetLogin() != "sergey" {
		t.Fatalf("updated %v", got)
	}
	got, err = s.updateUser(admin, &identityv1.User{Id: u.GetId(), DisplayName: "not applied", Active: ptr(false)}, "active")
	if err != nil || got.GetActive() || got.GetDisplayName() != "Sergey K." {
		t.Fatalf("deactivated %v, %v", got, err)
	}
	got, err = s.updateUser(admin, &identityv1.User{Id: u.GetId(), Active: ptr(true)}, "active")
	if err != nil || !got.GetActive() {
		t.Fatalf("reactivated %v, %v", got, err)
	}
	s.mustLogin("sergey", "sergey-password1")
}

func TestUpdateUserRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "dmitry", "dmitry-password1", "viewer")
	for _, tc := range []struct {
		name  string
		user  *identityv1.User
		paths []string
		field string
	}{
		{"no mask", &identityv1.User{Id: u.GetId(), DisplayName: "x"}, nil, "updateMask"},
		{"short password", &identityv1.User{Id: u.GetId(), Password: "short"}, []string{"password"}, "password"},
		{"unknown role", &identityv1.User{Id: u.GetId(), Roles: []string{"ghost"}}, []string{"roles"}, "roles[0]"},
		{"bad language", &identityv1.User{Id: u.GetId(), Language: "fr"}, []string{"language"}, "language"},
		{"empty display name", &identityv1.User{Id: u.GetId()}, []string{"display_name"}, "displayName"},
		{"login", &identityv1.User{Id: u.GetId(), Login: "other"}, []string{"login"}, "login"},
		{"unknown field", &identityv1.User{Id: u.GetId()}, []string{"shoe_size"}, "updateMask"},
		{"no id", &identityv1.User{DisplayName: "x"}, []string{"display_name"}, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.UpdateUser(admin, &identityv1.UpdateUserRequest{User: tc.user, UpdateMask: &fieldmaskpb.FieldMask{Paths: tc.paths}})
			wantField(t, err, tc.field)
		})
	}
	t.Run("unknown user", func(t *testing.T) {
		_, err := s.updateUser(admin, &identityv1.User{Id: 4242, DisplayName: "x"}, "display_name")
		wantCode(t, err, codes.NotFound)
	})
}

func TestTheLastActiveAdminIsProtected(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	me, err := s.client.GetMe(admin, &identityv1.GetMeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	adminID := me.GetUser().GetId()
	for _, tc := range []struct {
		name  string
		user  *identityv1.User
		paths []string
	}{
		{"deactivating", &identityv1.User{Id: adminID, Active: ptr(false)}, []string{"active"}},
		{"removing the admin role", &identityv1.User{Id: adminID, Roles: []string{"supervisor"}}, []string{"roles"}},
		{"removing every role", &identityv1.User{Id: adminID}, []string{"roles"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.updateUser(admin, tc.user, tc.paths...)
			wantCode(t, err, codes.FailedPrecondition)
			again, _ := s.client.GetUser(admin, &identityv1.GetUserRequest{Id: adminID})
			if !again.GetUser().GetActive() || !slices.Equal(again.GetUser().GetRoles(), []string{"admin"}) {
				t.Fatalf("the refused change was written: %v", again.GetUser())
			}
		})
	}
	t.Run("an inactive admin does not count", func(t *testing.T) {
		other := s.createUser(admin, "admin2", "admin2-password", "admin")
		if _, err := s.updateUser(admin, &identityv1.User{Id: other.GetId(), Active: ptr(false)}, "active"); err != nil {
			t.Fatal(err)
		}
		_, err := s.updateUser(admin, &identityv1.User{Id: adminID, Active: ptr(false)}, "active")
		wantCode(t, err, codes.FailedPrecondition)
	})
	t.Run("with another active admin it is allowed", func(t *testing.T) {
		s.createUser(admin, "admin3", "admin3-password", "admin")
		if _, err := s.updateUser(admin, &identityv1.User{Id: adminID, Roles: []string{"supervisor"}}, "roles"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRolesAndPermissionsAreListed(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	viewer := servicetest.User(t.Context(), 99, servicetest.Viewer)
	roles, err := s.client.ListRoles(viewer, &identityv1.ListRolesRequest{})
	if err != nil || len(roles.GetRoles()) != 5 {
		t.Fatalf("roles %v, %v", roles, err)
	}
	perms, err := s.client.ListPermissions(viewer, &identityv1.ListPermissionsRequest{})
	if err != nil || len(perms.GetPermissions()) != 13 {
		t.Fatalf("permissions %v, %v", perms, err)
	}
	for _, p := range perms.GetPermissions() {
		if p.GetDescription() == "" {
			t.Fatalf("%s has no description", p.GetName())
		}
	}
	_, err = s.client.ListRoles(servicetest.User(t.Context(), 98, nil), &identityv1.ListRolesRequest{})
	wantCode(t, err, codes.PermissionDenied)
}
