package identity

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/logging"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// syncBuffer is a log destination the server's goroutines share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogsHoldNoPasswordTokenLinkCodeOrPhoneNumber(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	log := logging.New(&out, slog.LevelDebug, "text")
	db := servicetest.OpenDB(t, servicetest.Common(t), Name, migrations(&seed{adminPassword: testAdminPassword, keepPassword: true, now: time.Now, argon: cheapArgon}))
	serve := func(register func(*grpcserver.Server)) string {
		srv := servicetest.Server(log)
		register(srv)
		return servicetest.Start(t, srv)
	}
	s := newStackOn(t, db, serve, func(_ *Config, d *Deps) { d.Log = log })

	const (
		phone       = "+79123456789"
		userPass    = "user-secret-password-1"
		newPass     = "user-secret-password-2"
		wrongPass   = "wrong-secret-password"
		shortPass   = "tiny-secret"
		phoneAsName = "Ivan (" + phone + ")"
	)
	adminLogin := s.mustLogin("admin", testAdminPassword)
	admin := s.session(adminLogin.GetAccessToken())
	u := s.createUser(admin, "logged", userPass, "engineer")
	_, _ = s.client.CreateUser(admin, &identityv1.CreateUserRequest{User: &identityv1.User{Login: "short", DisplayName: "Short", Password: shortPass}})
	_, _ = s.login(phone, wrongPass)
	_, _ = s.login("logged", wrongPass)
	userLogin := s.mustLogin("logged", userPass)
	me := s.session(userLogin.GetAccessToken())
	if _, err := s.client.UpdateProfile(me, &identityv1.UpdateProfileRequest{
		Profile: &identityv1.Profile{DisplayName: phoneAsName}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
	}); err != nil {
		t.Fatal(err)
	}
	link, err := s.client.CreateTelegramLink(me, &identityv1.CreateTelegramLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.RedeemTelegramLink(service(), &identityv1.RedeemTelegramLinkRequest{Code: link.GetCode(), ChatId: 880, TelegramUsername: "logged"}); err != nil {
		t.Fatal(err)
	}
	_, _ = s.client.RedeemTelegramLink(service(), &identityv1.RedeemTelegramLinkRequest{Code: link.GetCode(), ChatId: 880})
	if _, err := s.updateUser(me, &identityv1.User{Id: u.GetId(), Password: newPass}, "password"); err == nil {
		t.Fatal("an engineer changed a user")
	}
	if _, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), Password: newPass}, "password"); err != nil {
		t.Fatal(err)
	}
	_, _ = s.authenticate(userLogin.GetAccessToken())
	if _, err := s.client.Logout(admin, &identityv1.LogoutRequest{}); err != nil {
		t.Fatal(err)
	}
	_, _ = s.authenticate(adminLogin.GetAccessToken())

	text := out.String()
	if !strings.Contains(text, "signed in") || !strings.Contains(text, "sign-in refused") || !strings.Contains(text, "Login") {
		t.Fatalf("the flow left too little in the log to prove anything:\n%s", text)
	}
	for name, secret := range map[string]string{
		"admin password":     testAdminPassword,
		"user password":      userPass,
		"new password":       newPass,
		"wrong password":     wrongPass,
		"refused password":   shortPass,
		"admin access token": adminLogin.GetAccessToken(),
		"user access token":  userLogin.GetAccessToken(),
		"link code":          link.GetCode(),
		"phone number":       phone,
		"phone's digits":     strings.TrimPrefix(phone, "+"),
		"token hash":         hashToken(userLogin.GetAccessToken()),
		"link code hash":     hashLinkCode(link.GetCode()),
		"display name phone": phoneAsName,
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the log holds the %s:\n%s", name, text)
		}
	}
}
