package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
)

const (
	maxGroupName        = 100
	maxGroupDescription = 500
	maxRecipientGroups  = 100
)

// groupView is a group with its member count.
type groupView struct {
	ID          int64
	Name        string
	Description string
	MemberCount int32
}

func (s *store) groupQuery(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("work_groups g").
		Select("g.id, g.name, g.description, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count").
		Order("g.id")
}

func (s *store) allGroups(ctx context.Context) ([]groupView, error) {
	var out []groupView
	err := s.groupQuery(ctx).Scan(&out).Error
	return out, err
}

// groups returns the groups of ids that exist, by id.
func (s *store) groups(ctx context.Context, ids []int64) ([]groupView, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []groupView
	err := s.groupQuery(ctx).Where("g.id IN ?", ids).Scan(&out).Error
	return out, err
}

func (s *store) group(ctx context.Context, id int64) (*groupView, error) {
	gs, err := s.groups(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		return nil, fault.New(fault.NotFound, "group %d does not exist", id)
	}
	return &gs[0], nil
}

var errGroupTaken = errors.New("group name taken")

func (s *store) createGroup(ctx context.Context, g *groupRow) error {
	g.NameLower, g.CreatedAt = lowerName(g.Name), s.micros()
	err := s.db.WithContext(ctx).Create(g).Error
	if database.IsUniqueViolation(err) {
		return errGroupTaken
	}
	return err
}

func (s *store) members(ctx context.Context, groupID int64) ([]userRow, error) {
	var rows []userRow
	err := s.db.WithContext(ctx).Where("id IN (SELECT user_id FROM group_members WHERE group_id = ?)", groupID).
		Order("display_name_lower, id").Find(&rows).Error
	return rows, err
}

// addMember tells whether the user was added (false: a member already).
func (s *store) addMember(ctx context.Context, groupID, userID int64) (bool, error) {
	if _, err := s.group(ctx, groupID); err != nil {
		return false, err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return false, err
	}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&memberRow{GroupID: groupID, UserID: userID, AddedAt: s.micros()})
	return res.RowsAffected > 0, res.Error
}

// removeMember tells whether the user was removed (false: not a member).
func (s *store) removeMember(ctx context.Context, groupID, userID int64) (bool, error) {
	if _, err := s.group(ctx, groupID); err != nil {
		return false, err
	}
	if _, err := s.userByID(ctx, userID); err != nil {
		return false, err
	}
	res := s.db.WithContext(ctx).Where("group_id = ? AND user_id = ?", groupID, userID).Delete(&memberRow{})
	return res.RowsAffected > 0, res.Error
}

func (s *store) isMember(ctx context.Context, groupID, userID int64) (bool, error) {
	n, err := countRows(s.db.WithContext(ctx).Model(&memberRow{}).Where("group_id = ? AND user_id = ?", groupID, userID))
	return n > 0, err
}

// recipient is one row of ListRecipients before its groups are added.
type recipient struct {
	ID          int64
	DisplayName string
	Language    string
	NotifySelf  bool
	ChatID      int64
	Unreachable bool
}

// recipients returns the active members of groups, the active users named,
// and with supervisors every active holder of tasks.manage, by id.
func (s *store) recipients(ctx context.Context, groups, users []int64, supervisors bool) ([]recipient, map[int64][]int64, error) {
	db := s.db.WithContext(ctx)
	var who []string
	var args []any
	if len(groups) > 0 {
		who = append(who, "u.id IN (SELECT user_id FROM group_members WHERE group_id IN ?)")
		args = append(args, groups)
	}
	if len(users) > 0 {
		who = append(who, "u.id IN ?")
		args = append(args, users)
	}
	if supervisors {
		who = append(who, `u.id IN (SELECT ur.user_id FROM user_roles ur
			JOIN role_permissions rp ON rp.role_name = ur.role_name WHERE rp.permission_name = ?)`)
		args = append(args, manageTasks)
	}
	if len(who) == 0 {
		return nil, nil, nil
	}
	var rows []recipient
	err := db.Raw(`SELECT u.id, u.display_name, u.language, u.notify_self,
			COALESCE(t.chat_id, 0) AS chat_id, COALESCE(t.unreachable, ?) AS unreachable
		FROM users u LEFT JOIN telegram_users t ON t.user_id = u.id
		WHERE u.active = ? AND (`+strings.Join(who, " OR ")+`) ORDER BY u.id`,
		append([]any{false, true}, args...)...).Scan(&rows).Error
	if err != nil || len(rows) == 0 || len(groups) == 0 {
		return rows, nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var members []memberRow
	if err := db.Where("group_id IN ? AND user_id IN ?", groups, ids).Order("group_id").Find(&members).Error; err != nil {
		return nil, nil, err
	}
	of := map[int64][]int64{}
	for _, m := range members {
		of[m.UserID] = append(of[m.UserID], m.GroupID)
	}
	return rows, of, nil
}

func (s *Server) ListGroups(ctx context.Context, _ *identityv1.ListGroupsRequest) (*identityv1.ListGroupsResponse, error) {
	groups, err := s.store.allGroups(ctx)
	if err != nil {
		return nil, err
	}
	resp := &identityv1.ListGroupsResponse{}
	for i := range groups {
		resp.Groups = append(resp.Groups, groupProto(&groups[i]))
	}
	return resp, nil
}

func (s *Server) CreateGroup(ctx context.Context, req *identityv1.CreateGroupRequest) (*identityv1.CreateGroupResponse, error) {
	in := req.GetGroup()
	if in == nil {
		return nil, fault.Field("group", "the group is missing")
	}
	var errs []fault.Violation
	name := strings.TrimSpace(in.GetName())
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		errs = append(errs, fault.Violation{Field: "name", Description: "the group's name is empty"})
	case n > maxGroupName:
		errs = append(errs, fault.Violation{Field: "name", Description: fmt.Sprintf("the group's name is %d characters long; at most %d", n, maxGroupName)})
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		errs = append(errs, fault.Violation{Field: "name", Description: "the group's name holds control characters"})
	}
	desc := strings.TrimSpace(in.GetDescription())
	if n := utf8.RuneCountInString(desc); n > maxGroupDescription {
		errs = append(errs, fault.Violation{Field: "description", Description: fmt.Sprintf("the description is %d characters long; at most %d", n, maxGroupDescription)})
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	row := &groupRow{Name: name, Description: desc}
	if err := s.store.createGroup(ctx, row); err != nil {
		if err == errGroupTaken {
			return nil, fault.New(fault.Conflict, "a group named %q exists already; choose another name", name).
				At("name").Because("DUPLICATE_GROUP", map[string]string{"name": name})
		}
		return nil, err
	}
	s.auditByCaller(ctx, "group.create", groupTarget(row.ID), say("group_named", "name", name))
	return &identityv1.CreateGroupResponse{Group: groupProto(&groupView{ID: row.ID, Name: row.Name, Description: row.Description})}, nil
}

func (s *Server) GetGroup(ctx context.Context, req *identityv1.GetGroupRequest) (*identityv1.GetGroupResponse, error) {
	g, err := s.store.group(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &identityv1.GetGroupResponse{Group: groupProto(g)}, nil
}

func (s *Server) ListGroupMembers(ctx context.Context, req *identityv1.ListGroupMembersRequest) (*identityv1.ListGroupMembersResponse, error) {
	if _, err := s.store.group(ctx, req.GetGroupId()); err != nil {
		return nil, err
	}
	rows, err := s.store.members(ctx, req.GetGroupId())
	if err != nil {
		return nil, err
	}
	users, err := s.store.users(ctx, rows)
	if err != nil {
		return nil, err
	}
	resp := &identityv1.ListGroupMembersResponse{}
	for i := range users {
		resp.Members = append(resp.Members, userProto(&users[i]))
	}
	return resp, nil
}

func (s *Server) AddGroupMember(ctx context.Context, req *identityv1.AddGroupMemberRequest) (*identityv1.AddGroupMemberResponse, error) {
	if req.GetUserId() == 0 {
		return nil, fault.Field("userId", "say which user to add")
	}
	added, err := s.store.addMember(ctx, req.GetGroupId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	if added {
		s.revocations.tell(ctx, userRevoked(req.GetUserId()))
		s.auditByCaller(ctx, "group.member.add", groupTarget(req.GetGroupId()), say("member", "user", userTarget(req.GetUserId())))
	}
	return &identityv1.AddGroupMemberResponse{}, nil
}

func (s *Server) RemoveGroupMember(ctx context.Context, req *identityv1.RemoveGroupMemberRequest) (*identityv1.RemoveGroupMemberResponse, error) {
	removed, err := s.store.removeMember(ctx, req.GetGroupId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	if removed {
		s.revocations.tell(ctx, userRevoked(req.GetUserId()))
		s.auditByCaller(ctx, "group.member.remove", groupTarget(req.GetGroupId()), say("member", "user", userTarget(req.GetUserId())))
	}
	return &identityv1.RemoveGroupMemberResponse{}, nil
}

func (s *Server) CheckMembership(ctx context.Context, req *identityv1.CheckMembershipRequest) (*identityv1.CheckMembershipResponse, error) {
	u, err := s.store.userByID(ctx, req.GetUserId())
	if fault.Is(err, fault.NotFound) {
		return &identityv1.CheckMembershipResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	member, err := s.store.isMember(ctx, req.GetGroupId(), u.ID)
	if err != nil {
		return nil, err
	}
	perms, err := s.store.permissionsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &identityv1.CheckMembershipResponse{
		Member:         member,
		Active:         u.Active,
		CanManageTasks: contains(perms, manageTasks),
	}, nil
}

func (s *Server) ListRecipients(ctx context.Context, req *identityv1.ListRecipientsRequest) (*identityv1.ListRecipientsResponse, error) {
	if len(req.GetGroupIds()) > maxRecipientGroups {
		return nil, fault.Field("groupIds", "ask about at most %d groups at once", maxRecipientGroups)
	}
	rows, of, err := s.store.recipients(ctx, req.GetGroupIds(), req.GetUserIds(), req.GetIncludeSupervisors())
	if err != nil {
		return nil, err
	}
	resp := &identityv1.ListRecipientsResponse{}
	for _, r := range rows {
		chat := r.ChatID
		if r.Unreachable {
			chat = 0
		}
		resp.Recipients = append(resp.Recipients, &identityv1.Recipient{
			UserId:         r.ID,
			DisplayName:    r.DisplayName,
			Language:       r.Language,
			NotifySelf:     r.NotifySelf,
			TelegramChatId: chat,
			GroupIds:       of[r.ID],
		})
	}
	return resp, nil
}

func groupProto(g *groupView) *identityv1.Group {
	return &identityv1.Group{Id: g.ID, Name: g.Name, Description: g.Description, MemberCount: g.MemberCount}
}
