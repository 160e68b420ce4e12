package identity

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/logging"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// productRoleTable is the role table of the product description (§2),
// written out here by hand so a change to the seed cannot pass unnoticed.
var productRoleTable = map[string][]string{
	"admin":      strings.Fields("customers.read customers.write contracts.read contracts.write tasks.read tasks.create tasks.work tasks.manage settings.read settings.write users.manage integrations.manage imports.run"),
	"supervisor": strings.Fields("customers.read customers.write contracts.read contracts.write tasks.read tasks.create tasks.work tasks.manage settings.read settings.write integrations.manage imports.run"),
	"operator":   strings.Fields("customers.read customers.write contracts.read contracts.write tasks.read tasks.create tasks.work settings.read"),
	"engineer":   strings.Fields("customers.read contracts.read tasks.read tasks.work settings.read"),
	"viewer":     strings.Fields("customers.read contracts.read tasks.read settings.read"),
}

func TestSeedMatchesTheRoleTable(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	roles, err := s.client.ListRoles(admin, &identityv1.ListRolesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles.GetRoles() {
		names = append(names, r.GetName())
		want, ok := productRoleTable[r.GetName()]
		if !ok {
			t.Errorf("role %s is not in the product's table", r.GetName())
			continue
		}
		got := slices.Clone(r.GetPermissions())
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("role %s has %v, want %v", r.GetName(), got, want)
		}
		if r.GetDescription() == "" {
			t.Errorf("role %s has no description", r.GetName())
		}
	}
	if want := []string{"admin", "supervisor", "operator", "engineer", "viewer"}; !slices.Equal(names, want) {
		t.Fatalf("roles %v, want %v", names, want)
	}
	perms, err := s.client.ListPermissions(admin, &identityv1.ListPermissionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var permNames []string
	for _, p := range perms.GetPermissions() {
		permNames = append(permNames, p.GetName())
	}
	if !slices.Equal(permNames, productRoleTable["admin"]) {
		t.Fatalf("permissions %v, want %v", permNames, productRoleTable["admin"])
	}
	// The principals tests of other services sign match the seed too.
	for role, perms := range map[string][]string{"admin": servicetest.Admin, "operator": servicetest.Operator, "viewer": servicetest.Viewer} {
		if got, want := slices.Sorted(slices.Values(perms)), slices.Sorted(slices.Values(productRoleTable[role])); !slices.Equal(got, want) {
			t.Errorf("servicetest's %s holds %v, the seed %v", role, got, want)
		}
	}
}

func TestSeedCreatesTheGroupsWithFixedIDsAndTheAdmin(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	groups, err := s.client.ListGroups(admin, &identityv1.ListGroupsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Sales", "Provisioning", "Installers", "Billing", "Support", "Supervisors"}
	if len(groups.GetGroups()) != len(want) {
		t.Fatalf("groups %v", groups.GetGroups())
	}
	for i, g := range groups.GetGroups() {
		if g.GetId() != int64(i+1) || g.GetName() != want[i] || g.GetDescription() == "" {
			t.Fatalf("group %d is %v, want id %d %s", i, g, i+1, want[i])
		}
	}
	me, err := s.client.GetMe(admin, &identityv1.GetMeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if u := me.GetUser(); u.GetLogin() != "admin" || u.GetDisplayName() != "Administrator" || !slices.Equal(u.GetRoles(), []string{"admin"}) ||
		!slices.Equal(u.GetGroupIds(), []int64{6}) || !u.GetActive() {
		t.Fatalf("admin %v", u)
	}
}

func TestFirstStartWritesAGeneratedPasswordToAnOwnerOnlyFileNotTheLog(t *testing.T) {
	t.Parallel()
	c := servicetest.Common(t)
	ctx := context.Background()
	var logged syncBuffer
	log := logging.New(&logged, slog.LevelDebug, "text")
	db, err := OpenDB(ctx, c, FirstAdmin{Change: false}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(db) })
	file := AdminPasswordFile(c.DataDir)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no password file: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("the password file's mode is %v, want 0600", mode)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	generated := strings.TrimSpace(string(raw))
	if len(generated) < 20 {
		t.Fatalf("generated password %q", generated)
	}
	if strings.Contains(logged.String(), generated) {
		t.Fatal("the log holds the generated password")
	}
	if !strings.Contains(logged.String(), file) {
		t.Fatalf("the log does not say where the password is:\n%s", logged.String())
	}
	s := newStackOn(t, db, nil)
	resp, err := s.login("admin", generated)
	if err != nil {
		t.Fatalf("the generated password does not sign in: %v", err)
	}
	if !resp.GetMustChangePassword() {
		t.Fatal("a generated password need not be changed, even though it sits in a file")
	}
	var hash string
	db.Table("users").Where("login = ?", "admin").Pluck("password_hash", &hash)
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("the admin's hash %q does not use OWASP's parameters", hash)
	}
	again, err := OpenDB(ctx, c, FirstAdmin{Password: "another-password-entirely", Change: true}, servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(again)
	if now, _ := os.ReadFile(file); string(now) != string(raw) {
		t.Fatal("a second start rewrote the password file")
	}
	var admins int64
	again.Table("users").Where("login = ?", "admin").Count(&admins)
	if admins != 1 {
		t.Fatalf("%d admins after a second start", admins)
	}
	if _, err := s.login("admin", generated); err != nil {
		t.Fatalf("a second start changed the admin's password: %v", err)
	}
}

func TestConfiguredAdminPasswordMustBeChangedUnlessTheStackSaysOtherwise(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change bool
	}{{"CRM_ADMIN_PASSWORD_CHANGE unset", true}, {"CRM_ADMIN_PASSWORD_CHANGE=false", false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := servicetest.Common(t)
			db, err := OpenDB(context.Background(), c, FirstAdmin{Password: testAdminPassword, Change: tc.change}, servicetest.Logger())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = database.Close(db) })
			if _, err := os.Stat(AdminPasswordFile(c.DataDir)); !os.IsNotExist(err) {
				t.Fatalf("a configured password was written to a file (%v)", err)
			}
			resp, err := newStackOn(t, db, nil).login("admin", testAdminPassword)
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetMustChangePassword() != tc.change {
				t.Fatalf("mustChangePassword %v, want %v", resp.GetMustChangePassword(), tc.change)
			}
		})
	}
}

func TestFirstStartRefusesAShortAdminPassword(t *testing.T) {
	t.Parallel()
	_, err := OpenDB(context.Background(), servicetest.Common(t), FirstAdmin{Password: "short", Change: true}, servicetest.Logger())
	if err == nil || !strings.Contains(err.Error(), "CRM_ADMIN_PASSWORD") {
		t.Fatalf("got %v, want an error naming CRM_ADMIN_PASSWORD", err)
	}
}

func TestPasswordHashIsArgon2idAtOWASPParameters(t *testing.T) {
	t.Parallel()
	hash, err := hashPassword(argonParams{}, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", hash)
	}
	p, salt, key, err := parsePHC(hash)
	if err != nil || p != owasp || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("parsed %v, salt %d bytes, key %d bytes, %v", p, len(salt), len(key), err)
	}
	other, _ := hashPassword(argonParams{}, "correct horse battery staple")
	if other == hash {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		password string
		ok       bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"", false},
	} {
		if ok, err := verifyPassword(hash, tc.password); ok != tc.ok || err != nil {
			t.Errorf("verify %q: %v, %v", tc.password, ok, err)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if _, err := verifyPassword(bad, "x"); err == nil {
			t.Errorf("verify against %q did not fail", bad)
		}
	}
}

func TestPurgeRemovesEndedSessionsAndStaleCounters(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.mustLogin("admin", testAdminPassword)
	_, _ = s.login("nobody", "wrong-password")
	s.clock.Advance(idleTime + time.Minute)
	fresh := s.mustLogin("admin", testAdminPassword).GetAccessToken()
	s.clock.Advance(throttleMemory)
	if _, err := s.authenticate(fresh); err == nil {
		t.Fatal("the fresh session outlived the idle time")
	}
	if err := s.srv.store.purge(context.Background(), idleTime); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int64{"sessions": 0, "login_throttles": 0} {
		var n int64
		s.db.Table(table).Count(&n)
		if n != want {
			t.Errorf("%s holds %d rows after the purge, want %d", table, n, want)
		}
	}
}
