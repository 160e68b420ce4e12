package identity

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

func (s *stack) auditEvents(ctx context.Context, prefix string, actor int64) []*identityv1.AuditEvent {
	s.t.Helper()
	resp, err := s.client.ListAuditEvents(ctx, &identityv1.ListAuditEventsRequest{ActionPrefix: prefix, ActorId: actor, PageSize: 200})
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.GetAuditEvents()
}

func actions(evs []*identityv1.AuditEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.GetAction())
	}
	return out
}

func TestAuditLogRecordsWhoDidWhatFromWhere(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	_, _ = s.login("admin", "a-wrong-password")
	u := s.createUser(admin, "audited", "audited-password", "viewer")
	if _, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), Password: "audited-password-2"}, "password"); err != nil {
		t.Fatal(err)
	}
	g, err := s.client.CreateGroup(admin, &identityv1.CreateGroupRequest{Group: &identityv1.Group{Name: "Audited"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: g.GetGroup().GetId(), UserId: u.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.RemoveGroupMember(admin, &identityv1.RemoveGroupMemberRequest{GroupId: g.GetGroup().GetId(), UserId: u.GetId()}); err != nil {
		t.Fatal(err)
	}
	code := s.linkTelegram("audited", "audited-password-2", 3131)
	if _, err := s.client.UnlinkTelegram(service(), &identityv1.UnlinkTelegramRequest{ChatId: 3131, Reason: "blocked"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), Active: ptr(false)}, "active"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.RecordAuditEvent(service(), &identityv1.RecordAuditEventRequest{Event: &identityv1.AuditEvent{
		ActorId: u.GetId(), Action: "task.advance", Target: "task:40", ClientAddress: "192.0.2.9",
		DetailCode: "task_step", DetailParams: map[string]string{"number": "T-000040", "process": "Монтаж"},
	}}); err != nil {
		t.Fatal(err)
	}

	all := s.auditEvents(admin, "", 0)
	for _, want := range []string{"login.success", "login.failure", "user.create", "user.update", "user.deactivate", "group.create",
		"group.member.add", "group.member.remove", "telegram.link", "telegram.unlink", "task.advance"} {
		if !slices.Contains(actions(all), want) {
			t.Errorf("no %s event in %v", want, actions(all))
		}
	}
	for i := 1; i < len(all); i++ {
		if all[i].GetId() >= all[i-1].GetId() {
			t.Fatalf("not newest first: %d after %d", all[i].GetId(), all[i-1].GetId())
		}
	}
	task := all[0]
	if task.GetAction() != "task.advance" || task.GetActorLogin() != "audited" || task.GetTarget() != "task:40" || task.GetClientAddress() != "192.0.2.9" ||
		task.GetDetailCode() != "task_step" || !maps.Equal(task.GetDetailParams(), map[string]string{"number": "T-000040", "process": "Монтаж"}) {
		t.Fatalf("recorded event %v", task)
	}
	// What the service composed is a code and parameters, never prose.
	codes := map[string]*identityv1.AuditEvent{}
	for _, e := range all {
		codes[e.GetAction()] = e
		if e.GetDetail() != "" {
			t.Errorf("%s carries free text %q", e.GetAction(), e.GetDetail())
		}
	}
	for action, want := range map[string]struct {
		code   string
		params map[string]string
	}{
		"login.failure":   {"wrong_password", nil},
		"group.create":    {"group_named", map[string]string{"name": "Audited"}},
		"telegram.unlink": {"telegram_unlinked_blocked", nil},
		"user.create":     {"user_created", map[string]string{"login": "audited", "roles": "viewer"}},
	} {
		if e := codes[action]; e.GetDetailCode() != want.code || !maps.Equal(e.GetDetailParams(), want.params) {
			t.Errorf("%s: detail %q %v, want %q %v", action, e.GetDetailCode(), e.GetDetailParams(), want.code, want.params)
		}
	}
	logins := s.auditEvents(admin, "login.", 0)
	for _, e := range logins {
		if !strings.HasPrefix(e.GetAction(), "login.") {
			t.Fatalf("prefix filter let %s through", e.GetAction())
		}
	}
	var failure *identityv1.AuditEvent
	for _, e := range logins {
		if e.GetAction() == "login.failure" {
			failure = e
		}
	}
	if failure == nil || failure.GetActorLogin() != "admin" || failure.GetClientAddress() != testAddress {
		t.Fatalf("failure event %v", failure)
	}
	for _, e := range s.auditEvents(admin, "", u.GetId()) {
		if e.GetActorId() != u.GetId() {
			t.Fatalf("actor filter let %v through", e)
		}
	}
	create := s.auditEvents(admin, "user.create", 0)
	if len(create) != 1 || create[0].GetActorLogin() != "admin" || create[0].GetTarget() != fmt.Sprintf("user:%d", u.GetId()) || create[0].GetClientAddress() != testAddress {
		t.Fatalf("user.create events %v", create)
	}

	var rows []auditRow
	s.db.Find(&rows)
	for _, r := range rows {
		text := fmt.Sprint(r)
		for _, secret := range []string{"a-wrong-password", "audited-password", testAdminPassword, code} {
			if strings.Contains(text, secret) {
				t.Fatalf("the audit log holds a secret: %v", r)
			}
		}
	}
}

func TestAuditLogPages(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	for i := range 5 {
		if _, err := s.client.RecordAuditEvent(service(), &identityv1.RecordAuditEventRequest{Event: &identityv1.AuditEvent{
			Action: "task.comment", Target: fmt.Sprintf("task:%d", i), Time: timestamppb.New(s.clock.Now()),
		}}); err != nil {
			t.Fatal(err)
		}
	}
	var targets []string
	token := ""
	for {
		resp, err := s.client.ListAuditEvents(admin, &identityv1.ListAuditEventsRequest{ActionPrefix: "task.", PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetAuditEvents() {
			targets = append(targets, e.GetTarget())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if want := []string{"task:4", "task:3", "task:2", "task:1", "task:0"}; !slices.Equal(targets, want) {
		t.Fatalf("pages gave %v, want %v", targets, want)
	}
	first, _ := s.client.ListAuditEvents(admin, &identityv1.ListAuditEventsRequest{ActionPrefix: "task.", PageSize: 2})
	_, err := s.client.ListAuditEvents(admin, &identityv1.ListAuditEventsRequest{ActionPrefix: "login.", PageToken: first.GetNextPageToken()})
	wantField(t, err, "pageToken")
	_, err = s.client.ListAuditEvents(admin, &identityv1.ListAuditEventsRequest{ActionPrefix: "50%"})
	wantField(t, err, "actionPrefix")
}

func TestRecordAuditEventRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	for _, tc := range []struct {
		name  string
		event *identityv1.AuditEvent
		field string
	}{
		{"no event", nil, "event"},
		{"no action", &identityv1.AuditEvent{Target: "task:1"}, "event.action"},
		{"action with spaces", &identityv1.AuditEvent{Action: "task advance"}, "event.action"},
		{"detail too long", &identityv1.AuditEvent{Action: "task.comment", Detail: strings.Repeat("d", maxDetail+1)}, "event.detail"},
		{"negative actor", &identityv1.AuditEvent{Action: "task.comment", ActorId: -1}, "event.actorId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.client.RecordAuditEvent(service(), &identityv1.RecordAuditEventRequest{Event: tc.event})
			wantField(t, err, tc.field)
		})
	}
	t.Run("users may not record", func(t *testing.T) {
		_, err := s.client.RecordAuditEvent(s.admin(), &identityv1.RecordAuditEventRequest{Event: &identityv1.AuditEvent{Action: "task.advance"}})
		wantCode(t, err, codes.PermissionDenied)
	})
}
