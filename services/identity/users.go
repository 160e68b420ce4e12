package identity

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

const (
	maxDisplayName = 200
	maxRoles       = 20
)

func (s *Server) ListUsers(ctx context.Context, req *identityv1.ListUsersRequest) (*identityv1.ListUsersResponse, error) {
	query := strings.TrimSpace(req.GetQuery())
	if utf8.RuneCountInString(query) > maxDisplayName {
		return nil, fault.Field("query", "the query is longer than %d characters", maxDisplayName)
	}
	size := pagetoken.Size(req.GetPageSize(), 50, 200)
	var after int64
	if _, err := s.pages.Decode(req.GetPageToken(), "users|"+lowerName(query), &after); err != nil {
		return nil, err
	}
	rows, err := s.store.listUsers(ctx, query, after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &identityv1.ListUsersResponse{}
	rows, resp.NextPageToken = pagetoken.Next(s.pages, "users|"+lowerName(query), rows, size, func(r *userRow) any { return r.ID })
	users, err := s.store.users(ctx, rows)
	if err != nil {
		return nil, err
	}
	for i := range users {
		resp.Users = append(resp.Users, userProto(&users[i]))
	}
	return resp, nil
}

func (s *Server) CreateUser(ctx context.Context, req *identityv1.CreateUserRequest) (*identityv1.CreateUserResponse, error) {
	in := req.GetUser()
	if in == nil {
		return nil, fault.Field("user", "the user is missing")
	}
	var errs []fault.Violation
	login := strings.ToLower(strings.TrimSpace(in.GetLogin()))
	if !validLogin(login) {
		errs = append(errs, fault.Violation{Field: "login", Description: "a login is 3 to 64 characters: letters a-z, digits, '.', '_' or '-'"})
	}
	name, v := checkDisplayName("displayName", in.GetDisplayName())
	if v != nil {
		errs = append(errs, *v)
	}
	if v := checkPassword("password", in.GetPassword()); v != nil {
		errs = append(errs, *v)
	}
	lang, v := checkLanguage("language", in.GetLanguage())
	if v != nil {
		errs = append(errs, *v)
	}
	roles, rv, err := s.checkRoles(ctx, in.GetRoles())
	if err != nil {
		return nil, err
	}
	errs = append(errs, rv...)
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	hash, err := s.hash(ctx, in.GetPassword())
	if err != nil {
		return nil, err
	}
	row := &userRow{Login: login, DisplayName: name, PasswordHash: hash, Active: in.Active == nil || in.GetActive(), Language: lang}
	if err := s.store.createUser(ctx, row, roles); err != nil {
		if err == errLoginTaken {
			return nil, fault.New(fault.Conflict, "the login %s is taken by another user; choose another", login).
				At("login").Because("DUPLICATE_LOGIN", map[string]string{"login": login})
		}
		return nil, err
	}
	s.auditByCaller(ctx, "user.create", userTarget(row.ID), say("user_created", "login", login, "roles", strings.Join(roles, ", ")))
	u, err := s.store.oneUser(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateUserResponse{User: userProto(u)}, nil
}

func (s *Server) GetUser(ctx context.Context, req *identityv1.GetUserRequest) (*identityv1.GetUserResponse, error) {
	u, err := s.store.oneUser(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &identityv1.GetUserResponse{User: userProto(u)}, nil
}

func (s *Server) UpdateUser(ctx context.Context, req *identityv1.UpdateUserRequest) (*identityv1.UpdateUserResponse, error) {
	in := req.GetUser()
	if in == nil {
		return nil, fault.Field("user", "send the user's fields to change")
	}
	id, err := fault.UpdatedID("user", req.GetId(), in.GetId())
	if err != nil {
		return nil, err
	}
	in.Id = id
	paths, err := fault.Mask(req.GetUpdateMask().GetPaths(), "displayName", "roles", "active", "language", "password")
	if err != nil {
		return nil, err
	}
	ch := userChange{cols: map[string]any{}}
	var errs []fault.Violation
	var changed []string
	var newRoles string
	deactivate, activate := false, false
	for _, path := range paths {
		switch path {
		case "display_name", "displayName":
			name, v := checkDisplayName("displayName", in.GetDisplayName())
			if v != nil {
				errs = append(errs, *v)
			}
			ch.cols["display_name"], ch.cols["display_name_lower"] = name, lowerName(name)
			changed = append(changed, "displayName")
		case "language":
			lang, v := checkLanguage("language", in.GetLanguage())
			if v != nil {
				errs = append(errs, *v)
			}
			ch.cols["language"] = lang
			changed = append(changed, "language")
		case "active":
			ch.cols["active"] = in.GetActive()
			deactivate, activate = !in.GetActive(), in.GetActive()
		case "roles":
			roles, rv, err := s.checkRoles(ctx, in.GetRoles())
			if err != nil {
				return nil, err
			}
			errs = append(errs, rv...)
			ch.roles, ch.setRoles = roles, true
			changed = append(changed, "roles")
			newRoles = strings.Join(roles, ", ")
		case "password":
			if v := checkPassword("password", in.GetPassword()); v != nil {
				errs = append(errs, *v)
			}
			changed = append(changed, "password")
		case "login":
			errs = append(errs, fault.Violation{Field: "login", Description: "a login cannot be changed; create a new user instead"})
		case "id", "group_ids", "groupIds", "telegram_linked", "telegramLinked", "create_time", "createTime":
			// Output only: set by the service, ignored here.
		default:
			errs = append(errs, fault.Violation{Field: "updateMask", Description: fmt.Sprintf("%q cannot be changed (displayName, roles, active, language, password)", path)})
		}
	}
	if len(errs) > 0 {
		return nil, fault.Fields(errs)
	}
	if contains(paths, "password") {
		hash, err := s.hash(ctx, in.GetPassword())
		if err != nil {
			return nil, err
		}
		ch.cols["password_hash"] = hash
		// A new password ends the user's other sessions; when users change
		// their own, the session they do it from stays.
		ch.endOtherSessions = true
		if p := caller(ctx); p.UserID == in.GetId() {
			ch.keepSession, _ = strconv.ParseInt(p.SessionID, 10, 64)
		}
	}
	ch.endSessions = deactivate
	if err := s.store.updateUser(ctx, in.GetId(), ch); err != nil {
		return nil, err
	}
	// Whatever changed (sessions ended, roles, name) is in the principal.
	s.revocations.tell(ctx, userRevoked(in.GetId()))
	target := userTarget(in.GetId())
	switch {
	case deactivate:
		s.auditByCaller(ctx, "user.deactivate", target, detail{})
	case activate:
		s.auditByCaller(ctx, "user.activate", target, detail{})
	}
	if len(changed) > 0 {
		// fields: the changed fields' names, for the console to name.
		d := say("user_changed", "fields", strings.Join(changed, ","))
		if newRoles != "" {
			d.params["roles"] = newRoles
		}
		s.auditByCaller(ctx, "user.update", target, d)
	}
	u, err := s.store.oneUser(ctx, in.GetId())
	if err != nil {
		return nil, err
	}
	return &identityv1.UpdateUserResponse{User: userProto(u)}, nil
}

func (s *Server) ListRoles(ctx context.Context, _ *identityv1.ListRolesRequest) (*identityv1.ListRolesResponse, error) {
	roles, perms, err := s.store.roles(ctx)
	if err != nil {
		return nil, err
	}
	var held []struct {
		RoleName string
		Users    int32
	}
	if err := s.store.db.WithContext(ctx).Model(&userRoleRow{}).Select("role_name, COUNT(*) AS users").Group("role_name").Scan(&held).Error; err != nil {
		return nil, err
	}
	holders := map[string]int32{}
	for _, h := range held {
		holders[h.RoleName] = h.Users
	}
	resp := &identityv1.ListRolesResponse{}
	for _, r := range roles {
		resp.Roles = append(resp.Roles, &identityv1.Role{Name: r.Name, Description: r.Description, Permissions: perms[r.Name], BuiltIn: builtInRole(r.Name), UserCount: holders[r.Name]})
	}
	return resp, nil
}

func (s *Server) ListPermissions(ctx context.Context, _ *identityv1.ListPermissionsRequest) (*identityv1.ListPermissionsResponse, error) {
	rows, err := s.store.permissions(ctx)
	if err != nil {
		return nil, err
	}
	resp := &identityv1.ListPermissionsResponse{}
	for _, r := range rows {
		resp.Permissions = append(resp.Permissions, &identityv1.Permission{Name: r.Name, Description: r.Description})
	}
	return resp, nil
}

// checkRoles normalises role names (trimmed, lowered, each once) and
// reports those that do not exist.
func (s *Server) checkRoles(ctx context.Context, names []string) ([]string, []fault.Violation, error) {
	if len(names) > maxRoles {
		return nil, []fault.Violation{{Field: "roles", Description: fmt.Sprintf("at most %d roles", maxRoles)}}, nil
	}
	var roles []string
	at := map[string]int{}
	for i, n := range names {
		n = lowerName(n)
		if _, dup := at[n]; !dup {
			at[n] = i
			roles = append(roles, n)
		}
	}
	missing, err := s.store.missingRoles(ctx, roles)
	if err != nil {
		return nil, nil, err
	}
	var errs []fault.Violation
	for _, m := range missing {
		errs = append(errs, fault.Violation{Field: fmt.Sprintf("roles[%d]", at[m]), Description: fmt.Sprintf("there is no role %q (see the list of roles)", m)})
	}
	return roles, errs, nil
}

func checkDisplayName(field, name string) (string, *fault.Violation) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", &fault.Violation{Field: field, Description: "the display name is empty"}
	case n > maxDisplayName:
		return "", &fault.Violation{Field: field, Description: fmt.Sprintf("the display name is %d characters long; at most %d", n, maxDisplayName)}
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", &fault.Violation{Field: field, Description: "the display name holds control characters"}
	}
	return name, nil
}

func checkLanguage(field, lang string) (string, *fault.Violation) {
	switch l := lowerName(lang); l {
	case "":
		return "ru", nil
	case "ru", "en":
		return l, nil
	}
	return "", &fault.Violation{Field: field, Description: fmt.Sprintf("the language is ru or en, not %q", clip(lang, 20))}
}

// checkPassword never repeats the password in its answer.
func checkPassword(field, password string) *fault.Violation {
	switch {
	case utf8.RuneCountInString(password) < minPassword:
		return &fault.Violation{Field: field, Description: fmt.Sprintf("a password is at least %d characters long", minPassword)}
	case len(password) > maxPassword:
		return &fault.Violation{Field: field, Description: fmt.Sprintf("a password is at most %d bytes long", maxPassword)}
	}
	return nil
}
