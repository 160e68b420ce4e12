package identity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// The five built-in roles (defaults.go) stay as the product made them, so
// a deployment always has an admin and the roles the docs speak of; admins
// add their own, made of the permissions, and give them like any other.

// roleNamePattern is what a role's name may be: it is a code in URLs and
// in the audit log, the description is for people.
var roleNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,63}$`)

func builtInRole(name string) bool {
	for _, r := range defaultRoles {
		if r.name == name {
			return true
		}
	}
	return false
}

type rolePermissionRow struct {
	RoleName       string
	PermissionName string
}

func (rolePermissionRow) TableName() string { return "role_permissions" }

// checkRole normalises an edited role: its description trimmed, its
// permissions known and each once.
func (s *Server) checkRole(ctx context.Context, in *identityv1.Role) (string, []string, error) {
	var v []fault.Violation
	desc := strings.TrimSpace(in.GetDescription())
	if utf8.RuneCountInString(desc) > 200 {
		v = append(v, fault.Violation{Field: "description", Description: "a role's description is at most 200 characters"})
	}
	known, err := s.store.permissions(ctx)
	if err != nil {
		return "", nil, err
	}
	var perms []string
	for i, p := range in.GetPermissions() {
		p = lowerName(p)
		switch {
		case !slices.ContainsFunc(known, func(k permissionRow) bool { return k.Name == p }):
			v = append(v, fault.Violation{Field: fmt.Sprintf("permissions[%d]", i), Description: fmt.Sprintf("there is no permission %q (see the list of permissions)", p)})
		case !slices.Contains(perms, p):
			perms = append(perms, p)
		}
	}
	if len(in.GetPermissions()) == 0 {
		v = append(v, fault.Violation{Field: "permissions", Description: "a role grants at least one permission"})
	}
	if len(v) > 0 {
		return "", nil, &fault.Error{Kind: fault.Invalid, Message: v[0].Description, Violations: v}
	}
	return desc, perms, nil
}

// writePermissions replaces a role's permissions.
func writePermissions(tx *gorm.DB, role string, perms []string) error {
	if err := tx.Where("role_name = ?", role).Delete(&rolePermissionRow{}).Error; err != nil {
		return err
	}
	links := make([]rolePermissionRow, len(perms))
	for i, p := range perms {
		links[i] = rolePermissionRow{RoleName: role, PermissionName: p}
	}
	return tx.Create(&links).Error
}

func (s *Server) CreateRole(ctx context.Context, req *identityv1.CreateRoleRequest) (*identityv1.CreateRoleResponse, error) {
	name := lowerName(req.GetRole().GetName())
	if !roleNamePattern.MatchString(name) {
		return nil, fault.Field("name", "a role's name is 2 to 64 lower-case Latin letters, digits, \"-\" or \"_\", starting with a letter")
	}
	desc, perms, err := s.checkRole(ctx, req.GetRole())
	if err != nil {
		return nil, err
	}
	err = s.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var last int32
		if err := tx.Model(&roleRow{}).Select("COALESCE(MAX(position), 0)").Scan(&last).Error; err != nil {
			return err
		}
		if err := tx.Create(&roleRow{Name: name, Description: desc, Position: last + 1}).Error; err != nil {
			return err
		}
		return writePermissions(tx, name, perms)
	})
	if database.IsUniqueViolation(err) {
		return nil, fault.New(fault.Conflict, "a role named %q exists already", name)
	}
	if err != nil {
		return nil, err
	}
	s.auditByCaller(ctx, "role.create", "role:"+name, say("role_created", "name", name, "permissions", strings.Join(perms, ", ")))
	return &identityv1.CreateRoleResponse{Role: &identityv1.Role{Name: name, Description: desc, Permissions: perms}}, nil
}

// editableRole finds a role an admin may change or remove.
func (s *Server) editableRole(ctx context.Context, tx *gorm.DB, name string) (roleRow, []string, error) {
	var r roleRow
	if builtInRole(name) {
		return r, nil, fault.New(fault.FailedPrecondition, "the built-in role %q stays as it is; make a role of your own instead", name)
	}
	if err := tx.WithContext(ctx).Take(&r, "name = ?", name).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return r, nil, fault.New(fault.NotFound, "there is no role %q", name)
	} else if err != nil {
		return r, nil, err
	}
	var perms []string
	err := tx.WithContext(ctx).Model(&rolePermissionRow{}).Where("role_name = ?", name).Order("permission_name").Pluck("permission_name", &perms).Error
	return r, perms, err
}

func (s *Server) UpdateRole(ctx context.Context, req *identityv1.UpdateRoleRequest) (*identityv1.UpdateRoleResponse, error) {
	name := lowerName(req.GetName())
	if body := lowerName(req.GetRole().GetName()); body != "" && body != name {
		return nil, fault.Field("role.name", "a role keeps its name; make a new role for another name")
	}
	desc, perms, err := s.checkRole(ctx, req.GetRole())
	if err != nil {
		return nil, err
	}
	var before []string
	err = s.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r roleRow
		var err error
		if r, before, err = s.editableRole(ctx, tx, name); err != nil {
			return err
		}
		if err := tx.Model(&roleRow{}).Where("name = ?", r.Name).Update("description", desc).Error; err != nil {
			return err
		}
		return writePermissions(tx, name, perms)
	})
	if err != nil {
		return nil, err
	}
	// Every holder's permissions changed; a role held by no one is rare
	// enough that looking them up is not worth it.
	s.revocations.tell(ctx, revocation{everyone: true})
	s.auditByCaller(ctx, "role.update", "role:"+name, say("role_changed", "name", name, "before", strings.Join(before, ", "), "after", strings.Join(perms, ", ")))
	return &identityv1.UpdateRoleResponse{Role: &identityv1.Role{Name: name, Description: desc, Permissions: perms}}, nil
}

func (s *Server) DeleteRole(ctx context.Context, req *identityv1.DeleteRoleRequest) (*identityv1.DeleteRoleResponse, error) {
	name := lowerName(req.GetName())
	var perms []string
	err := s.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if _, perms, err = s.editableRole(ctx, tx, name); err != nil {
			return err
		}
		var holders int64
		if err := tx.Model(&userRoleRow{}).Where("role_name = ?", name).Count(&holders).Error; err != nil {
			return err
		}
		if holders > 0 {
			return fault.New(fault.FailedPrecondition, "%d users hold the role %q; take it from them first", holders, name)
		}
		if err := tx.Where("role_name = ?", name).Delete(&rolePermissionRow{}).Error; err != nil {
			return err
		}
		return tx.Where("name = ?", name).Delete(&roleRow{}).Error
	})
	if err != nil {
		return nil, err
	}
	s.auditByCaller(ctx, "role.delete", "role:"+name, say("role_deleted", "name", name, "permissions", strings.Join(perms, ", ")))
	return &identityv1.DeleteRoleResponse{}, nil
}
