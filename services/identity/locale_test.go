package identity

import (
	"context"
	"slices"
	"testing"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// The groups of PRODUCT §8.6, written out by hand.
var seededGroups = map[string][]string{
	"ru": {"Продажи", "Подключение", "Монтажники", "Биллинг", "Поддержка", "Руководители"},
	"en": {"Sales", "Provisioning", "Installers", "Billing", "Support", "Supervisors"},
}

func TestDefaultDataIsSeededInTheDeploymentsLanguage(t *testing.T) {
	t.Parallel()
	for loc, want := range seededGroups {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			c := servicetest.Common(t)
			c.Locale = loc
			db, err := OpenDB(context.Background(), c, FirstAdmin{Password: testAdminPassword}, servicetest.Logger())
			if err != nil {
				t.Fatal(err)
			}
			defer database.Close(db)
			var names []string
			db.Table("work_groups").Order("id").Pluck("name", &names)
			if !slices.Equal(names, want) {
				t.Fatalf("groups %v, want %v", names, want)
			}
			var lower []string
			db.Table("work_groups").Order("id").Pluck("name_lower", &lower)
			if lower[0] != lowerName(want[0]) {
				t.Fatalf("the lowered name %q does not match %q", lower[0], want[0])
			}
			var admin struct {
				DisplayName string
				Language    string
			}
			db.Table("users").Where("login = ?", "admin").Select("display_name, language").Scan(&admin)
			if wantName := map[string]string{"ru": "Администратор", "en": "Administrator"}[loc]; admin.DisplayName != wantName || admin.Language != loc {
				t.Fatalf("admin %+v, want %s in %s", admin, wantName, loc)
			}
			var role string
			db.Table("roles").Where("name = ?", "viewer").Pluck("description", &role)
			if wantRole := map[string]string{"ru": "Читает абонентов, договоры и задачи", "en": "Reads customers, contracts and tasks"}[loc]; role != wantRole {
				t.Fatalf("the viewer role reads %q, want %q", role, wantRole)
			}
			var perms []string
			db.Table("role_permissions").Where("role_name = ?", "supervisor").Order("permission_name").Pluck("permission_name", &perms)
			if slices.Contains(perms, "users.manage") || len(perms) != 12 {
				t.Fatalf("the supervisor holds %v", perms)
			}
		})
	}
}

func TestADatabaseSeededInEnglishKeepsItsNamesUnderAnotherLocale(t *testing.T) {
	t.Parallel()
	c := servicetest.Common(t)
	c.Locale = "en"
	db, err := OpenDB(context.Background(), c, FirstAdmin{Password: testAdminPassword}, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	db.Table("work_groups").Where("id = ?", 1).Updates(map[string]any{"name": "Front desk", "name_lower": "front desk"})
	_ = database.Close(db)
	c.Locale = "ru"
	again, err := OpenDB(context.Background(), c, FirstAdmin{Password: testAdminPassword}, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(again)
	var names []string
	again.Table("work_groups").Order("id").Pluck("name", &names)
	if want := append([]string{"Front desk"}, seededGroups["en"][1:]...); !slices.Equal(names, want) {
		t.Fatalf("groups %v after a start in Russian, want %v", names, want)
	}
}
