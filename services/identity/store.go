package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// The service's tables. Times are Unix microseconds: the same in SQLite
// and PostgreSQL, and sortable.

type userRow struct {
	ID               int64
	Login            string
	DisplayName      string
	DisplayNameLower string
	PasswordHash     string
	Active           bool
	Language         string
	NotifySelf       bool
	// MustChangePassword: the password was set for the user (the first
	// admin's) and must be replaced before anything else.
	MustChangePassword bool
	// ServiceAccount: an API token's account (apitokens.go), which never
	// signs in with a password and is not listed among the users.
	ServiceAccount bool
	CreatedAt      int64 `gorm:"autoCreateTime:false"`
	UpdatedAt      int64 `gorm:"autoUpdateTime:false"`
}

func (userRow) TableName() string { return "users" }

type userRoleRow struct {
	UserID   int64
	RoleName string
}

func (userRoleRow) TableName() string { return "user_roles" }

type groupRow struct {
	ID          int64
	Name        string
	NameLower   string
	Description string
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
}

func (groupRow) TableName() string { return "work_groups" }

type memberRow struct {
	GroupID int64
	UserID  int64
	AddedAt int64
}

func (memberRow) TableName() string { return "group_members" }

type permissionRow struct {
	Name        string
	Description string
	Position    int32
}

func (permissionRow) TableName() string { return "permissions" }

type roleRow struct {
	Name        string
	Description string
	Position    int32
}

func (roleRow) TableName() string { return "roles" }

// adminRole is the role whose last active holder is protected.
const adminRole = "admin"

// manageTasks is the permission that lets a user act outside their groups.
const manageTasks = "tasks.manage"

// store is the identity service's access to its own tables.
type store struct {
	db  *gorm.DB
	now func() time.Time
}

func (s *store) micros() int64 { return micros.Of(s.now()) }

func lowerName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// forUpdate locks the rows a query reads until the transaction ends, on
// PostgreSQL; SQLite's write transactions are serialised already.
func forUpdate(tx *gorm.DB) *gorm.DB {
	if database.IsPostgres(tx) {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// user is a user with what hangs off it.
type user struct {
	userRow
	roles    []string
	groups   []int64
	telegram bool
}

func (s *store) userByID(ctx context.Context, id int64) (*userRow, error) {
	var u userRow
	err := s.db.WithContext(ctx).Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "user %d does not exist", id)
	}
	return &u, err
}

func (s *store) userByLogin(ctx context.Context, login string) (*userRow, error) {
	var u userRow
	err := s.db.WithContext(ctx).Where("login = ?", login).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &u, err
}

// rolesByUser answers the users' roles, each user's in the roles' order.
func (s *store) rolesByUser(ctx context.Context, ids []int64) (map[int64][]string, error) {
	var links []userRoleRow
	if err := s.db.WithContext(ctx).Raw(`SELECT ur.user_id, ur.role_name FROM user_roles ur JOIN roles r ON r.name = ur.role_name
		WHERE ur.user_id IN ? ORDER BY r.position`, ids).Scan(&links).Error; err != nil {
		return nil, err
	}
	out := map[int64][]string{}
	for _, l := range links {
		out[l.UserID] = append(out[l.UserID], l.RoleName)
	}
	return out, nil
}

// users adds roles, groups and the Telegram link to rows, in their order.
func (s *store) users(ctx context.Context, rows []userRow) ([]user, error) {
	out := make([]user, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		out[i].userRow = r
		ids[i], at[r.ID] = r.ID, i
	}
	db := s.db.WithContext(ctx)
	roles, err := s.rolesByUser(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, names := range roles {
		out[at[id]].roles = names
	}
	var members []memberRow
	if err := db.Where("user_id IN ?", ids).Order("group_id").Find(&members).Error; err != nil {
		return nil, err
	}
	for _, m := range members {
		out[at[m.UserID]].groups = append(out[at[m.UserID]].groups, m.GroupID)
	}
	var linked []int64
	if err := db.Model(&telegramUserRow{}).Where("user_id IN ? AND unreachable = ?", ids, false).Pluck("user_id", &linked).Error; err != nil {
		return nil, err
	}
	for _, id := range linked {
		out[at[id]].telegram = true
	}
	return out, nil
}

func (s *store) oneUser(ctx context.Context, id int64) (*user, error) {
	row, err := s.userByID(ctx, id)
	if err != nil {
		return nil, err
	}
	us, err := s.users(ctx, []userRow{*row})
	if err != nil {
		return nil, err
	}
	return &us[0], nil
}

// listUsers returns users by id after the id `after`, those whose login or
// display name holds query when it is set.
func (s *store) listUsers(ctx context.Context, query string, after int64, limit int) ([]userRow, error) {
	q := s.db.WithContext(ctx).Where("id > ? AND service_account = ?", after, false)
	if query = lowerName(query); query != "" {
		like := "%" + textsearch.EscapeLike(query) + "%"
		q = q.Where(`(login LIKE ? ESCAPE '\' OR display_name_lower LIKE ? ESCAPE '\')`, like, like)
	}
	var rows []userRow
	err := q.Order("id").Limit(limit).Find(&rows).Error
	return rows, err
}

// missingRoles returns the names of roles that do not exist.
func (s *store) missingRoles(ctx context.Context, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var found []string
	if err := s.db.WithContext(ctx).Model(&roleRow{}).Where("name IN ?", names).Pluck("name", &found).Error; err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		if !contains(found, n) {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

func contains[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// errLoginTaken reports a login another user holds.
var errLoginTaken = errors.New("login taken")

func (s *store) createUser(ctx context.Context, u *userRow, roles []string) error {
	now := s.micros()
	u.CreatedAt, u.UpdatedAt = now, now
	u.DisplayNameLower = lowerName(u.DisplayName)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return setRoles(tx, u.ID, roles)
	})
	if database.IsUniqueViolation(err) {
		return errLoginTaken
	}
	return err
}

func setRoles(tx *gorm.DB, userID int64, roles []string) error {
	if err := tx.Where("user_id = ?", userID).Delete(&userRoleRow{}).Error; err != nil {
		return err
	}
	if len(roles) == 0 {
		return nil
	}
	rows := make([]userRoleRow, len(roles))
	for i, r := range roles {
		rows[i] = userRoleRow{UserID: userID, RoleName: r}
	}
	return tx.Create(&rows).Error
}

// userChange is what an update does to a user.
type userChange struct {
	cols     map[string]any
	roles    []string
	setRoles bool
	// endSessions ends every session of the user (deactivation).
	endSessions bool
	// endOtherSessions ends every session but keepSession (a new password).
	endOtherSessions bool
	keepSession      int64
}

// mayDemoteAdmin tells whether the change could leave no active admin.
func (c *userChange) mayDemoteAdmin() bool {
	if active, ok := c.cols["active"]; ok && active == false {
		return true
	}
	return c.setRoles && !contains(c.roles, adminRole)
}

// updateUser applies a change in one transaction. A change that would
// leave no active admin is refused; changes that could do so are
// serialised on the admin role's row, so two of them cannot both pass.
func (s *store) updateUser(ctx context.Context, id int64, c userChange) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		guard := c.mayDemoteAdmin()
		if guard {
			var locked []string
			if err := forUpdate(tx.Model(&roleRow{})).Where("name = ?", adminRole).Pluck("name", &locked).Error; err != nil {
				return err
			}
		}
		var u userRow
		if err := tx.Take(&u, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fault.New(fault.NotFound, "user %d does not exist", id)
			}
			return err
		}
		wasAdmin := false
		if guard && u.Active {
			n, err := countRows(tx.Model(&userRoleRow{}).Where("user_id = ? AND role_name = ?", id, adminRole))
			if err != nil {
				return err
			}
			wasAdmin = n > 0
		}
		c.cols["updated_at"] = s.micros()
		if err := tx.Model(&userRow{}).Where("id = ?", id).Updates(c.cols).Error; err != nil {
			return err
		}
		if c.setRoles {
			if err := setRoles(tx, id, c.roles); err != nil {
				return err
			}
		}
		if wasAdmin {
			n, err := countActiveAdmins(tx)
			if err != nil {
				return err
			}
			if n == 0 {
				return fault.New(fault.FailedPrecondition,
					"%s is the last active admin; give another active user the admin role first", u.Login).Because("LAST_ADMIN", nil)
			}
		}
		switch {
		case c.endSessions:
			return tx.Where("user_id = ?", id).Delete(&sessionRow{}).Error
		case c.endOtherSessions:
			return tx.Where("user_id = ? AND id <> ?", id, c.keepSession).Delete(&sessionRow{}).Error
		}
		return nil
	})
}

func countRows(q *gorm.DB) (int64, error) {
	var n int64
	err := q.Count(&n).Error
	return n, err
}

func countActiveAdmins(tx *gorm.DB) (int64, error) {
	var n int64
	err := tx.Raw(`SELECT COUNT(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id
		WHERE ur.role_name = ? AND u.active = ?`, adminRole, true).Scan(&n).Error
	return n, err
}

// permissionsOf returns the permissions a user's roles grant, in the
// order of the permission list.
func (s *store) permissionsOf(ctx context.Context, userID int64) ([]string, error) {
	var rows []struct {
		Name     string
		Position int32
	}
	err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT p.name, p.position FROM user_roles ur
		JOIN role_permissions rp ON rp.role_name = ur.role_name
		JOIN permissions p ON p.name = rp.permission_name
		WHERE ur.user_id = ? ORDER BY p.position`, userID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Name
	}
	return out, nil
}

func (s *store) groupsOf(ctx context.Context, userID int64) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&memberRow{}).Where("user_id = ?", userID).Order("group_id").Pluck("group_id", &ids).Error
	return ids, err
}

// rolesWithPermissions returns every role and its permissions, in order.
func (s *store) roles(ctx context.Context) ([]roleRow, map[string][]string, error) {
	db := s.db.WithContext(ctx)
	var roles []roleRow
	if err := db.Order("position").Find(&roles).Error; err != nil {
		return nil, nil, err
	}
	var links []struct {
		RoleName       string
		PermissionName string
	}
	if err := db.Raw(`SELECT rp.role_name, rp.permission_name FROM role_permissions rp
		JOIN permissions p ON p.name = rp.permission_name ORDER BY p.position`).Scan(&links).Error; err != nil {
		return nil, nil, err
	}
	perms := map[string][]string{}
	for _, l := range links {
		perms[l.RoleName] = append(perms[l.RoleName], l.PermissionName)
	}
	return roles, perms, nil
}

func (s *store) permissions(ctx context.Context) ([]permissionRow, error) {
	var rows []permissionRow
	err := s.db.WithContext(ctx).Order("position").Find(&rows).Error
	return rows, err
}
