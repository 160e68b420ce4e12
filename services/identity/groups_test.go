package identity

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func TestGroupsAreCreatedListedAndRead(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	created, err := s.client.CreateGroup(admin, &identityv1.CreateGroupRequest{Group: &identityv1.Group{Name: " Night shift ", Description: "Repairs after hours"}})
	if err != nil {
		t.Fatal(err)
	}
	g := created.GetGroup()
	if g.GetId() != 7 || g.GetName() != "Night shift" || g.GetDescription() != "Repairs after hours" || g.GetMemberCount() != 0 {
		t.Fatalf("created %v (the six default groups come first)", g)
	}
	got, err := s.client.GetGroup(admin, &identityv1.GetGroupRequest{Id: g.GetId()})
	if err != nil || !protoEqual(got.GetGroup(), g) {
		t.Fatalf("get %v, %v", got.GetGroup(), err)
	}
	list, err := s.client.ListGroups(servicetest.User(t.Context(), 50, servicetest.Viewer), &identityv1.ListGroupsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range list.GetGroups() {
		names = append(names, g.GetName())
		if g.GetName() == "Supervisors" && g.GetMemberCount() != 1 {
			t.Fatalf("Supervisors has %d members, want the admin", g.GetMemberCount())
		}
	}
	if want := []string{"Sales", "Provisioning", "Installers", "Billing", "Support", "Supervisors", "Night shift"}; !slices.Equal(names, want) {
		t.Fatalf("groups %v, want %v", names, want)
	}
}

func TestCreateGroupRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	t.Run("a taken name, whatever its case", func(t *testing.T) {
		_, err := s.client.CreateGroup(admin, &identityv1.CreateGroupRequest{Group: &identityv1.Group{Name: "installers"}})
		st := wantCode(t, err, codes.AlreadyExists)
		if !slices.Contains(servicetest.Fields(st.Err()), "name") {
			t.Fatalf("conflict names %v", servicetest.Fields(st.Err()))
		}
	})
	for _, tc := range []struct {
		name  string
		group *identityv1.Group
		field string
	}{
		{"no group", nil, "group"},
		{"empty name", &identityv1.Group{Name: "  "}, "name"},
		{"name too long", &identityv1.Group{Name: string(make([]byte, 101))}, "name"},
		{"description too long", &identityv1.Group{Name: "Fine", Description: string(slices.Repeat([]byte("d"), 501))}, "description"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.CreateGroup(admin, &identityv1.CreateGroupRequest{Group: tc.group})
			wantField(t, err, tc.field)
		})
	}
	t.Run("without settings.write", func(t *testing.T) {
		_, err := s.client.CreateGroup(servicetest.User(t.Context(), 50, servicetest.Operator), &identityv1.CreateGroupRequest{Group: &identityv1.Group{Name: "Mine"}})
		wantCode(t, err, codes.PermissionDenied)
	})
}

func TestGroupMembersAreAddedListedAndRemoved(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "fitter", "fitter-password1", "engineer")
	const installers = 3
	for range 2 { // adding twice is harmless
		if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: installers, UserId: u.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	members, err := s.client.ListGroupMembers(admin, &identityv1.ListGroupMembersRequest{GroupId: installers})
	if err != nil || len(members.GetMembers()) != 1 || members.GetMembers()[0].GetLogin() != "fitter" ||
		!slices.Equal(members.GetMembers()[0].GetGroupIds(), []int64{installers}) {
		t.Fatalf("members %v, %v", members.GetMembers(), err)
	}
	g, _ := s.client.GetGroup(admin, &identityv1.GetGroupRequest{Id: installers})
	if g.GetGroup().GetMemberCount() != 1 {
		t.Fatalf("member count %d", g.GetGroup().GetMemberCount())
	}
	a, err := s.authenticate(s.mustLogin("fitter", "fitter-password1").GetAccessToken())
	if err != nil || !slices.Equal(a.GetGroupIds(), []int64{installers}) {
		t.Fatalf("the session does not carry the group: %v, %v", a.GetGroupIds(), err)
	}
	for range 2 { // removing a non-member is harmless
		if _, err := s.client.RemoveGroupMember(admin, &identityv1.RemoveGroupMemberRequest{GroupId: installers, UserId: u.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	members, _ = s.client.ListGroupMembers(admin, &identityv1.ListGroupMembersRequest{GroupId: installers})
	if len(members.GetMembers()) != 0 {
		t.Fatalf("members after removal: %v", members.GetMembers())
	}
}

func TestGroupCallsAnswerNotFoundForUnknownIDs(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "someone", "someone-password", "viewer")
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"get unknown group", func() error {
			_, err := s.client.GetGroup(admin, &identityv1.GetGroupRequest{Id: 404})
			return err
		}},
		{"members of unknown group", func() error {
			_, err := s.client.ListGroupMembers(admin, &identityv1.ListGroupMembersRequest{GroupId: 404})
			return err
		}},
		{"add to unknown group", func() error {
			_, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: 404, UserId: u.GetId()})
			return err
		}},
		{"add unknown user", func() error {
			_, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: 1, UserId: 404})
			return err
		}},
		{"remove from unknown group", func() error {
			_, err := s.client.RemoveGroupMember(admin, &identityv1.RemoveGroupMemberRequest{GroupId: 404, UserId: u.GetId()})
			return err
		}},
		{"remove unknown user", func() error {
			_, err := s.client.RemoveGroupMember(admin, &identityv1.RemoveGroupMemberRequest{GroupId: 1, UserId: 404})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), codes.NotFound) })
	}
	t.Run("add without a user id", func(t *testing.T) {
		_, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: 1})
		wantField(t, err, "userId")
	})
}

func TestCheckMembershipAnswersTheTaskRules(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	fitter := s.createUser(admin, "fitter", "fitter-password1", "engineer")
	boss := s.createUser(admin, "boss", "boss-password-01", "supervisor")
	gone := s.createUser(admin, "gone", "gone-password-01", "engineer")
	for _, u := range []*identityv1.User{fitter, gone} {
		if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: 3, UserId: u.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.updateUser(admin, &identityv1.User{Id: gone.GetId(), Active: ptr(false)}, "active"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		user, group    int64
		member, active bool
		canManageTasks bool
	}{
		{"member of the group", fitter.GetId(), 3, true, true, false},
		{"not a member", fitter.GetId(), 1, false, true, false},
		{"supervisor outside the group", boss.GetId(), 3, false, true, true},
		{"deactivated member", gone.GetId(), 3, true, false, false},
		{"unknown user", 4040, 3, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.client.CheckMembership(service(), &identityv1.CheckMembershipRequest{UserId: tc.user, GroupId: tc.group})
			if err != nil {
				t.Fatal(err)
			}
			if got.GetMember() != tc.member || got.GetActive() != tc.active || got.GetCanManageTasks() != tc.canManageTasks {
				t.Fatalf("got %v", got)
			}
		})
	}
	t.Run("users may not ask", func(t *testing.T) {
		_, err := s.client.CheckMembership(admin, &identityv1.CheckMembershipRequest{UserId: 1, GroupId: 1})
		wantCode(t, err, codes.PermissionDenied)
	})
}

func TestListRecipientsNamesActiveMembersAndSupervisors(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	fitter := s.createUser(admin, "fitter", "fitter-password1", "engineer")
	seller := s.createUser(admin, "seller", "seller-password1", "operator")
	boss := s.createUser(admin, "boss", "boss-password-01", "supervisor")
	gone := s.createUser(admin, "gone", "gone-password-01", "engineer")
	add := func(g int64, u *identityv1.User) {
		if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: g, UserId: u.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	add(3, fitter)
	add(1, fitter)
	add(1, seller)
	add(3, gone)
	if _, err := s.updateUser(admin, &identityv1.User{Id: gone.GetId(), Active: ptr(false)}, "active"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.updateUser(admin, &identityv1.User{Id: seller.GetId(), Language: "en"}, "language"); err != nil {
		t.Fatal(err)
	}
	link := s.linkTelegram(fitter.GetLogin(), "fitter-password1", 777001)
	_ = link
	ids := func(rs []*identityv1.Recipient) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.GetUserId())
		}
		return out
	}

	got, err := s.client.ListRecipients(service(), &identityv1.ListRecipientsRequest{GroupIds: []int64{3}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got.GetRecipients()), []int64{fitter.GetId()}) {
		t.Fatalf("installers: %v", got.GetRecipients())
	}
	r := got.GetRecipients()[0]
	if r.GetTelegramChatId() != 777001 || r.GetLanguage() != "ru" || r.GetNotifySelf() || !slices.Equal(r.GetGroupIds(), []int64{3}) || r.GetDisplayName() != "User fitter" {
		t.Fatalf("recipient %v", r)
	}

	// a visit's technicians are told whatever their groups; the inactive not
	got, err = s.client.ListRecipients(service(), &identityv1.ListRecipientsRequest{UserIds: []int64{seller.GetId(), gone.GetId()}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got.GetRecipients()), []int64{seller.GetId()}) || len(got.GetRecipients()[0].GetGroupIds()) != 0 {
		t.Fatalf("users named: %v", got.GetRecipients())
	}

	got, err = s.client.ListRecipients(service(), &identityv1.ListRecipientsRequest{GroupIds: []int64{1, 3}, IncludeSupervisors: true})
	if err != nil {
		t.Fatal(err)
	}
	adminID := int64(1)
	if want := []int64{adminID, fitter.GetId(), seller.GetId(), boss.GetId()}; !slices.Equal(ids(got.GetRecipients()), want) {
		t.Fatalf("sales, installers and supervisors: %v, want %v", ids(got.GetRecipients()), want)
	}
	for _, r := range got.GetRecipients() {
		switch r.GetUserId() {
		case fitter.GetId():
			if !slices.Equal(r.GetGroupIds(), []int64{1, 3}) {
				t.Fatalf("fitter's groups %v", r.GetGroupIds())
			}
		case seller.GetId():
			if r.GetLanguage() != "en" || r.GetTelegramChatId() != 0 {
				t.Fatalf("seller %v", r)
			}
		case boss.GetId():
			if len(r.GetGroupIds()) != 0 {
				t.Fatalf("the supervisor is in none of the asked groups: %v", r.GetGroupIds())
			}
		}
	}

	got, err = s.client.ListRecipients(service(), &identityv1.ListRecipientsRequest{})
	if err != nil || len(got.GetRecipients()) != 0 {
		t.Fatalf("asking about nobody: %v, %v", got.GetRecipients(), err)
	}
	_, err = s.client.ListRecipients(service(), &identityv1.ListRecipientsRequest{GroupIds: make([]int64, maxRecipientGroups+1)})
	wantField(t, err, "groupIds")
}
