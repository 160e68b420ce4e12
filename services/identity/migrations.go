package identity

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/locale"
)

// seed is what the first start of an empty database needs beyond the
// schema: the first admin's password.
type seed struct {
	// adminPassword comes from CRM_ADMIN_PASSWORD; empty means generate one.
	adminPassword string
	// generated is set when a password was made up, to be shown once.
	generated string
	now       func() time.Time
	// argon is the hash's cost; unset is OWASP's.
	argon argonParams
	// passwordFile is where a generated password is written (mode 0600).
	passwordFile string
	// keepPassword lets the first admin keep a configured password instead
	// of changing it at the first sign-in (CRM_ADMIN_PASSWORD_CHANGE=false,
	// for test stacks).
	keepPassword bool
	// createdAdmin is set when this start created the first admin.
	createdAdmin bool
}

// migrations are the identity service's schema steps, oldest first. The
// structs and data inside each step are frozen copies of that day's.
func migrations(sd *seed) []*database.Migration {
	return []*database.Migration{
		{ID: "0001_identity_schema", Migrate: migrateSchema},
		{ID: "0002_default_roles_groups_admin", Migrate: sd.migrateDefaults},
		{ID: "0003_users_must_change_password", Migrate: sd.migrateMustChangePassword},
		ledger.Migration("0004_idempotency_keys"),
		{ID: "0005_audit_detail_code", Migrate: migrateAuditDetailCode},
		{ID: "0006_api_tokens", Migrate: migrateAPITokens},
		{ID: "0007_integrations_permission", Migrate: addPermission("integrations.manage", integrationsDescription, "admin", "supervisor")},
		{ID: "0008_imports_permission", Migrate: addPermission("imports.run", importsDescription, "admin", "supervisor")},
	}
}

func migrateSchema(tx *gorm.DB) error {
	type permission struct {
		Name        string `gorm:"primaryKey;size:64"`
		Description string `gorm:"size:200;not null;default:''"`
		Position    int32  `gorm:"not null"`
	}
	type role struct {
		Name        string `gorm:"primaryKey;size:64"`
		Description string `gorm:"size:200;not null;default:''"`
		Position    int32  `gorm:"not null"`
	}
	type rolePermission struct {
		RoleName       string `gorm:"primaryKey;size:64"`
		PermissionName string `gorm:"primaryKey;size:64"`
	}
	type user struct {
		ID               int64  `gorm:"primaryKey"`
		Login            string `gorm:"size:64;not null;uniqueIndex:users_login_key"`
		DisplayName      string `gorm:"size:200;not null"`
		DisplayNameLower string `gorm:"size:200;not null"`
		PasswordHash     string `gorm:"size:200;not null"`
		Active           bool   `gorm:"not null"`
		Language         string `gorm:"size:8;not null"`
		NotifySelf       bool   `gorm:"not null;default:false"`
		CreatedAt        int64  `gorm:"not null"`
		UpdatedAt        int64  `gorm:"not null"`
	}
	type userRole struct {
		UserID   int64  `gorm:"primaryKey;autoIncrement:false"`
		RoleName string `gorm:"primaryKey;size:64;index:user_roles_role_name"`
	}
	type workGroup struct {
		ID          int64  `gorm:"primaryKey"`
		Name        string `gorm:"size:100;not null"`
		NameLower   string `gorm:"size:100;not null;uniqueIndex:work_groups_name_key"`
		Description string `gorm:"size:500;not null;default:''"`
		CreatedAt   int64  `gorm:"not null"`
	}
	type groupMember struct {
		GroupID int64 `gorm:"primaryKey;autoIncrement:false"`
		UserID  int64 `gorm:"primaryKey;autoIncrement:false;index:group_members_user_id"`
		AddedAt int64 `gorm:"not null"`
	}
	type session struct {
		ID          int64  `gorm:"primaryKey"`
		TokenHash   string `gorm:"size:64;not null;uniqueIndex:sessions_token_hash_key"`
		UserID      int64  `gorm:"not null;index:sessions_user_id"`
		CreatedAt   int64  `gorm:"not null"`
		LastSeenAt  int64  `gorm:"not null"`
		ExpiresAt   int64  `gorm:"not null"`
		LastAddress string `gorm:"size:100;not null;default:''"`
	}
	type loginThrottle struct {
		Subject       string `gorm:"primaryKey;size:200"`
		Failures      int32  `gorm:"not null"`
		NextAllowedAt int64  `gorm:"not null"`
		LastFailureAt int64  `gorm:"not null"`
	}
	type telegramLink struct {
		ID        int64  `gorm:"primaryKey"`
		CodeHash  string `gorm:"size:64;not null;uniqueIndex:telegram_links_code_hash_key"`
		UserID    int64  `gorm:"not null;index:telegram_links_user_id"`
		CreatedAt int64  `gorm:"not null"`
		ExpiresAt int64  `gorm:"not null"`
		UsedAt    int64  `gorm:"not null;default:0"`
	}
	type telegramUser struct {
		UserID      int64  `gorm:"primaryKey;autoIncrement:false"`
		ChatID      int64  `gorm:"not null;uniqueIndex:telegram_users_chat_id_key"`
		Username    string `gorm:"size:64;not null;default:''"`
		LinkedAt    int64  `gorm:"not null"`
		Unreachable bool   `gorm:"not null;default:false"`
	}
	type auditEvent struct {
		ID            int64  `gorm:"primaryKey;index:audit_events_actor_id,priority:2"`
		At            int64  `gorm:"not null"`
		ActorID       int64  `gorm:"not null;index:audit_events_actor_id,priority:1"`
		ActorLogin    string `gorm:"size:64;not null;default:''"`
		Action        string `gorm:"size:64;not null"`
		Target        string `gorm:"size:200;not null;default:''"`
		ClientAddress string `gorm:"size:100;not null;default:''"`
		Detail        string `gorm:"size:1000;not null;default:''"`
	}
	for _, t := range []struct {
		name  string
		model any
	}{
		{"permissions", &permission{}},
		{"roles", &role{}},
		{"role_permissions", &rolePermission{}},
		{"users", &user{}},
		{"user_roles", &userRole{}},
		{"work_groups", &workGroup{}},
		{"group_members", &groupMember{}},
		{"sessions", &session{}},
		{"login_throttles", &loginThrottle{}},
		{"telegram_links", &telegramLink{}},
		{"telegram_users", &telegramUser{}},
		{"audit_events", &auditEvent{}},
	} {
		if err := tx.Table(t.name).Migrator().CreateTable(t.model); err != nil {
			return fmt.Errorf("creating %s: %w", t.name, err)
		}
	}
	return nil
}

// migrateDefaults fills a new database: the permissions and roles of the
// product's role table, the work groups and the first admin.
//
// The data, in every language, is in defaults.go; the work groups get the
// FIXED ids written there.
func (sd *seed) migrateDefaults(tx *gorm.DB) error {
	type permission struct {
		Name        string
		Description string
		Position    int32
	}
	type role struct {
		Name        string
		Description string
		Position    int32
	}
	type rolePermission struct {
		RoleName       string
		PermissionName string
	}
	type workGroup struct {
		ID          int64
		Name        string
		NameLower   string
		Description string
		CreatedAt   int64
	}
	type user struct {
		ID               int64
		Login            string
		DisplayName      string
		DisplayNameLower string
		PasswordHash     string
		Active           bool
		Language         string
		NotifySelf       bool
		CreatedAt        int64
		UpdatedAt        int64
	}
	type userRole struct {
		UserID   int64
		RoleName string
	}
	type groupMember struct {
		GroupID int64
		UserID  int64
		AddedAt int64
	}
	now := sd.now().UTC().UnixMicro()
	loc := locale.FromContext(tx.Statement.Context)

	permissions := make([]permission, 0, len(defaultPermissions))
	all := make([]string, 0, len(defaultPermissions))
	for i, p := range defaultPermissions {
		permissions = append(permissions, permission{Name: p.name, Description: p.description.In(loc), Position: int32(i + 1)})
		all = append(all, p.name)
	}
	type seededRole struct {
		role
		permissions []string
	}
	roles := make([]seededRole, 0, len(defaultRoles))
	for _, r := range defaultRoles {
		perms := r.permissions
		switch {
		case perms == nil:
			perms = all
		case len(perms) == 1 && strings.HasPrefix(perms[0], "-"):
			perms = slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == perms[0][1:] })
		}
		roles = append(roles, seededRole{role{Name: r.name, Description: r.description.In(loc)}, perms})
	}
	groups := make([]workGroup, 0, len(defaultGroups))
	for _, g := range defaultGroups {
		groups = append(groups, workGroup{ID: g.id, Name: g.name.In(loc), Description: g.description.In(loc)})
	}

	ins := func(table string, rows any) error {
		return tx.Table(table).Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error
	}
	if err := ins("permissions", &permissions); err != nil {
		return err
	}
	for i, r := range roles {
		r.Position = int32(i + 1)
		if err := ins("roles", &r.role); err != nil {
			return err
		}
		links := make([]rolePermission, 0, len(r.permissions))
		for _, p := range r.permissions {
			links = append(links, rolePermission{RoleName: r.Name, PermissionName: p})
		}
		if err := ins("role_permissions", &links); err != nil {
			return err
		}
	}
	for i := range groups {
		groups[i].NameLower = lowerName(groups[i].Name)
		groups[i].CreatedAt = now
	}
	if err := ins("work_groups", &groups); err != nil {
		return err
	}
	if database.IsPostgres(tx) {
		// Explicit ids leave the sequence behind; the next group follows them.
		if err := tx.Exec(`SELECT setval(pg_get_serial_sequence('work_groups', 'id'), (SELECT MAX(id) FROM work_groups))`).Error; err != nil {
			return err
		}
	}

	var admins int64
	if err := tx.Table("users").Where("login = ?", "admin").Count(&admins).Error; err != nil {
		return err
	}
	if admins > 0 {
		return nil
	}
	password, generated := sd.adminPassword, ""
	if password == "" {
		var b [15]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		password = base64.RawURLEncoding.EncodeToString(b[:])
		generated = password
	} else if utf8.RuneCountInString(password) < minPassword {
		return fmt.Errorf("CRM_ADMIN_PASSWORD is shorter than %d characters; choose a longer one", minPassword)
	}
	hash, err := hashPassword(sd.argon, password)
	if err != nil {
		return err
	}
	name := defaultAdminName.In(loc)
	admin := user{
		Login: "admin", DisplayName: name, DisplayNameLower: lowerName(name),
		PasswordHash: hash, Active: true, Language: loc, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.Table("users").Create(&admin).Error; err != nil {
		return err
	}
	if err := tx.Table("user_roles").Create(&userRole{UserID: admin.ID, RoleName: "admin"}).Error; err != nil {
		return err
	}
	if err := tx.Table("group_members").Create(&groupMember{GroupID: supervisorsGroup, UserID: admin.ID, AddedAt: now}).Error; err != nil {
		return err
	}
	if generated != "" && sd.passwordFile != "" {
		// Inside the migration: if the file cannot be written, no admin
		// is created whose password nobody knows.
		if err := writeSecretFile(sd.passwordFile, generated+"\n"); err != nil {
			return fmt.Errorf("writing the first admin's password: %w", err)
		}
	}
	sd.generated, sd.createdAdmin = generated, true
	return nil
}

// migrateMustChangePassword adds users.must_change_password; a first admin
// created by this start must change the password at the first sign-in.
func (sd *seed) migrateMustChangePassword(tx *gorm.DB) error {
	type user struct {
		MustChangePassword bool `gorm:"not null;default:false"`
	}
	if err := tx.Table("users").Migrator().AddColumn(&user{}, "MustChangePassword"); err != nil {
		return err
	}
	if !sd.createdAdmin || sd.keepPassword && sd.generated == "" {
		return nil
	}
	return tx.Table("users").Where("login = ?", "admin").Update("must_change_password", true).Error
}

// writeSecretFile writes data to a file only its owner can read, replacing
// one left from an earlier database.
func writeSecretFile(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// migrateAuditDetailCode lets an audit entry hold what the server composed
// as a code and its parameters, rendered per reader (docs/language.md).
func migrateAuditDetailCode(tx *gorm.DB) error {
	for _, stmt := range []string{
		`ALTER TABLE audit_events ADD COLUMN detail_code varchar(64) NOT NULL DEFAULT ''`,
		`ALTER TABLE audit_events ADD COLUMN detail_params varchar(2000) NOT NULL DEFAULT ''`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}

// migrateAPITokens adds machines' tokens, each with its service account.
func migrateAPITokens(tx *gorm.DB) error {
	if err := tx.Exec(`ALTER TABLE users ADD COLUMN service_account boolean NOT NULL DEFAULT false`).Error; err != nil {
		return err
	}
	type apiToken struct {
		ID         int64  `gorm:"primaryKey"`
		UserID     int64  `gorm:"not null;uniqueIndex:api_tokens_user_id_key"`
		Name       string `gorm:"size:100;not null"`
		TokenHash  string `gorm:"size:64;not null;uniqueIndex:api_tokens_token_hash_key"`
		Prefix     string `gorm:"size:16;not null"`
		CreatedBy  int64  `gorm:"not null"`
		CreatedAt  int64  `gorm:"not null"`
		ExpiresAt  int64  `gorm:"not null"`
		RevokedAt  int64  `gorm:"not null;default:0"`
		LastUsedAt int64  `gorm:"not null;default:0"`
	}
	return tx.Table("api_tokens").Migrator().CreateTable(&apiToken{})
}

// addPermission is the migration step that adds a permission to a
// database seeded before it, granted to the given roles as the role table
// grants it to a new one.
func addPermission(name string, description locale.Text, roles ...string) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		type permission struct {
			Name        string
			Description string
			Position    int32
		}
		type rolePermission struct {
			RoleName       string
			PermissionName string
		}
		var last int32
		if err := tx.Table("permissions").Select("COALESCE(MAX(position), 0)").Scan(&last).Error; err != nil {
			return err
		}
		p := permission{Name: name, Description: description.In(locale.FromContext(tx.Statement.Context)), Position: last + 1}
		if err := tx.Table("permissions").Clauses(clause.OnConflict{DoNothing: true}).Create(&p).Error; err != nil {
			return err
		}
		var held []string
		if err := tx.Table("roles").Where("name IN ?", roles).Pluck("name", &held).Error; err != nil {
			return err
		}
		for _, r := range held {
			if err := tx.Table("role_permissions").Clauses(clause.OnConflict{DoNothing: true}).Create(&rolePermission{RoleName: r, PermissionName: p.Name}).Error; err != nil {
				return err
			}
		}
		return nil
	}
}
