package identity

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

func TestGetMeDescribesTheCaller(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "nina", "nina-password-01", "operator", "engineer")
	for _, g := range []int64{1, 5} {
		if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: g, UserId: u.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	me, err := s.client.GetMe(s.session(s.mustLogin("nina", "nina-password-01").GetAccessToken()), &identityv1.GetMeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if me.GetUser().GetLogin() != "nina" || !slices.Equal(me.GetRoles(), []string{"operator", "engineer"}) || me.GetTelegramLinked() {
		t.Fatalf("me %v", me)
	}
	wantPerms := []string{"customers.read", "customers.write", "contracts.read", "contracts.write", "tasks.read", "tasks.create", "tasks.work", "settings.read"}
	if !slices.Equal(me.GetPermissions(), wantPerms) {
		t.Fatalf("permissions %v, want %v", me.GetPermissions(), wantPerms)
	}
	var groups []string
	for _, g := range me.GetGroups() {
		groups = append(groups, g.GetName())
	}
	if !slices.Equal(groups, []string{"Sales", "Support"}) {
		t.Fatalf("groups %v", groups)
	}
	if p := me.GetProfile(); p.GetDisplayName() != "User nina" || p.GetLanguage() != "ru" || p.GetNotifySelf() {
		t.Fatalf("profile %v", p)
	}
}

func TestGetMeNeedsASignedInUser(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, err := s.client.GetMe(t.Context(), &identityv1.GetMeRequest{})
	wantCode(t, err, codes.Unauthenticated)
	_, err = s.client.GetMe(service(), &identityv1.GetMeRequest{})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestUpdateProfileChangesOnlyTheMaskedFields(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	s.createUser(admin, "nina", "nina-password-01", "viewer")
	me := s.session(s.mustLogin("nina", "nina-password-01").GetAccessToken())
	got, err := s.client.UpdateProfile(me, &identityv1.UpdateProfileRequest{
		Profile:    &identityv1.Profile{DisplayName: "Nina S.", Language: "en", NotifySelf: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"language", "notify_self"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.GetProfile(); p.GetDisplayName() != "User nina" || p.GetLanguage() != "en" || !p.GetNotifySelf() {
		t.Fatalf("profile %v", p)
	}
	got, err = s.client.UpdateProfile(me, &identityv1.UpdateProfileRequest{
		Profile: &identityv1.Profile{DisplayName: "Nina S."}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
	})
	if err != nil || got.GetProfile().GetDisplayName() != "Nina S." || got.GetProfile().GetLanguage() != "en" {
		t.Fatalf("profile %v, %v", got.GetProfile(), err)
	}
	for _, tc := range []struct {
		name    string
		profile *identityv1.Profile
		paths   []string
		field   string
	}{
		{"no mask", &identityv1.Profile{Language: "en"}, nil, "updateMask"},
		{"bad language", &identityv1.Profile{Language: "xx"}, []string{"language"}, "language"},
		{"empty name", &identityv1.Profile{}, []string{"display_name"}, "displayName"},
		{"a field outside the profile", &identityv1.Profile{}, []string{"roles"}, "updateMask"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.UpdateProfile(me, &identityv1.UpdateProfileRequest{Profile: tc.profile, UpdateMask: &fieldmaskpb.FieldMask{Paths: tc.paths}})
			wantField(t, err, tc.field)
		})
	}
}
