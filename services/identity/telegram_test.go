package identity

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

// linkTelegram links chat to the user as the console and the bot do, and
// returns the code spent.
func (s *stack) linkTelegram(login, password string, chat int64) string {
	s.t.Helper()
	me := s.session(s.mustLogin(login, password).GetAccessToken())
	link, err := s.client.CreateTelegramLink(me, &identityv1.CreateTelegramLinkRequest{})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.client.RedeemTelegramLink(service(), &identityv1.RedeemTelegramLinkRequest{Code: link.GetCode(), ChatId: chat, TelegramUsername: "@" + login}); err != nil {
		s.t.Fatal(err)
	}
	return link.GetCode()
}

func TestTelegramLinkCodeIsShortUnambiguousAndExpires(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	me := s.admin()
	link, err := s.client.CreateTelegramLink(me, &identityv1.CreateTelegramLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	code := link.GetCode()
	if len(code) != 8 || strings.Trim(code, linkAlphabet) != "" || strings.ContainsAny(code, "IO01") {
		t.Fatalf("code %q", code)
	}
	if link.GetDeepLink() != "https://t.me/crm_test_bot?start="+code {
		t.Fatalf("deep link %q", link.GetDeepLink())
	}
	if got, want := link.GetExpiresAt().AsTime(), s.clock.Now().Add(15*time.Minute); !got.Equal(want) {
		t.Fatalf("expires %v, want %v", got, want)
	}
	var stored int64
	s.db.Table("telegram_links").Where("code_hash = ?", code).Count(&stored)
	if stored != 0 {
		t.Fatal("the code itself is stored; only its hash may be")
	}
}

func TestTelegramDeepLinkIsEmptyWithoutABot(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	plain := newStackOn(t, s.db, nil, func(c *Config, _ *Deps) { c.TelegramBotUsername = "" })
	link, err := plain.client.CreateTelegramLink(plain.admin(), &identityv1.CreateTelegramLinkRequest{})
	if err != nil || link.GetDeepLink() != "" || link.GetCode() == "" {
		t.Fatalf("link %v, %v", link, err)
	}
}

func TestRedeemTelegramLinkBindsTheChatOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "linker", "linker-password1", "engineer")
	me := s.session(s.mustLogin("linker", "linker-password1").GetAccessToken())
	link, err := s.client.CreateTelegramLink(me, &identityv1.CreateTelegramLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typed := strings.ToLower(link.GetCode()[:4]) + "-" + link.GetCode()[4:] // as a person might type it
	got, err := s.client.RedeemTelegramLink(service(), &identityv1.RedeemTelegramLinkRequest{Code: typed, ChatId: 5150, TelegramUsername: "@linker"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetUserId() != u.GetId() || got.GetDisplayName() != "User linker" || got.GetLanguage() != "ru" {
		t.Fatalf("redeemed %v", got)
	}
	mine, _ := s.client.GetMe(me, &identityv1.GetMeRequest{})
	if !mine.GetTelegramLinked() || !mine.GetUser().GetTelegramLinked() {
		t.Fatal("GetMe does not show the link")
	}
	_, err = s.client.RedeemTelegramLink(service(), &identityv1.RedeemTelegramLinkRequest{Code: link.GetCode(), ChatId: 5150})
	if st := wantCode(t, err, codes.FailedPrecondition); !strings.Contains(st.Message(), "used") {
		t.Fatalf("message %q does not say the code was used", st.Message())
	}
}

func TestRedeemTelegramLinkRefusesBadCodes(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	me := s.admin()
	code := func() string {
		l, err := s.client.CreateTelegramLink(me, &identityv1.CreateTelegramLinkRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return l.GetCode()
	}
	redeem := func(code string, chat int64) error {
		_, err := s.client.RedeemTelegramLink(service(), &identityv1.RedeemTelegramLinkRequest{Code: code, ChatId: chat})
		return err
	}
	t.Run("unknown code", func(t *testing.T) {
		st := wantCode(t, redeem("ZZZZZZZZ", 1), codes.NotFound)
		if !strings.Contains(st.Message(), "unknown") {
			t.Fatalf("message %q", st.Message())
		}
	})
	t.Run("expired code", func(t *testing.T) {
		c := code()
		s.clock.Advance(linkTTL)
		st := wantCode(t, redeem(c, 1), codes.FailedPrecondition)
		if !strings.Contains(st.Message(), "expired") {
			t.Fatalf("message %q", st.Message())
		}
	})
	t.Run("a newer code voids the older", func(t *testing.T) {
		old := code()
		code()
		wantCode(t, redeem(old, 1), codes.FailedPrecondition)
	})
	t.Run("no code", func(t *testing.T) { wantField(t, redeem(" ", 1), "code") })
	t.Run("no chat", func(t *testing.T) { wantField(t, redeem(code(), 0), "chatId") })
	t.Run("users may not redeem", func(t *testing.T) {
		_, err := s.client.RedeemTelegramLink(me, &identityv1.RedeemTelegramLinkRequest{Code: code(), ChatId: 1})
		wantCode(t, err, codes.PermissionDenied)
	})
}

func TestRelinkingMovesTheChat(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	a := s.createUser(admin, "first", "first-password-1", "viewer")
	b := s.createUser(admin, "second", "second-password1", "viewer")
	s.linkTelegram("first", "first-password-1", 42)
	s.linkTelegram("first", "first-password-1", 43)  // a new chat replaces the old
	s.linkTelegram("second", "second-password1", 42) // the old chat passes to another user
	for chat, want := range map[int64]int64{42: b.GetId(), 43: a.GetId()} {
		got, err := s.client.ResolveTelegramChat(service(), &identityv1.ResolveTelegramChatRequest{ChatId: chat})
		if err != nil || got.GetUserId() != want {
			t.Fatalf("chat %d: %v, %v; want user %d", chat, got, err, want)
		}
	}
	var rows int64
	s.db.Table("telegram_users").Count(&rows)
	if rows != 2 {
		t.Fatalf("%d links, want 2", rows)
	}
}

func TestResolveTelegramChatNamesTheUser(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "fitter", "fitter-password1", "engineer")
	if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: 3, UserId: u.GetId()}); err != nil {
		t.Fatal(err)
	}
	s.linkTelegram("fitter", "fitter-password1", 9001)
	got, err := s.client.ResolveTelegramChat(service(), &identityv1.ResolveTelegramChatRequest{ChatId: 9001})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetUserId() != u.GetId() || got.GetLogin() != "fitter" || got.GetDisplayName() != "User fitter" || got.GetLanguage() != "ru" ||
		!slices.Equal(got.GetGroupIds(), []int64{3}) || !slices.Equal(got.GetPermissions(), []string{"customers.read", "contracts.read", "tasks.read", "tasks.work", "settings.read"}) {
		t.Fatalf("resolved %v", got)
	}
	_, err = s.client.ResolveTelegramChat(service(), &identityv1.ResolveTelegramChatRequest{ChatId: 1234})
	wantCode(t, err, codes.NotFound)
	if _, err := s.updateUser(admin, &identityv1.User{Id: u.GetId(), Active: ptr(false)}, "active"); err != nil {
		t.Fatal(err)
	}
	_, err = s.client.ResolveTelegramChat(service(), &identityv1.ResolveTelegramChatRequest{ChatId: 9001})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestUnlinkTelegramStopsOrMarksUnreachable(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	admin := s.admin()
	u := s.createUser(admin, "fitter", "fitter-password1", "engineer")
	if _, err := s.client.AddGroupMember(admin, &identityv1.AddGroupMemberRequest{GroupId: 3, UserId: u.GetId()}); err != nil {
		t.Fatal(err)
	}
	chatOf := func() int64 {
		r, err := s.client.ListRecipients(service(), &identityv1.ListRecipientsRequest{GroupIds: []int64{3}})
		if err != nil || len(r.GetRecipients()) != 1 {
			t.Fatalf("recipients %v, %v", r, err)
		}
		return r.GetRecipients()[0].GetTelegramChatId()
	}
	unlink := func(chat int64, reason string) error {
		_, err := s.client.UnlinkTelegram(service(), &identityv1.UnlinkTelegramRequest{ChatId: chat, Reason: reason})
		return err
	}

	s.linkTelegram("fitter", "fitter-password1", 610)
	if err := unlink(610, "blocked"); err != nil {
		t.Fatal(err)
	}
	if chat := chatOf(); chat != 0 {
		t.Fatalf("an unreachable chat is still offered: %d", chat)
	}
	if got, err := s.client.GetUser(admin, &identityv1.GetUserRequest{Id: u.GetId()}); err != nil || got.GetUser().GetTelegramLinked() {
		t.Fatalf("a blocked bot still shows as linked: %v, %v", got, err)
	}

	s.linkTelegram("fitter", "fitter-password1", 610) // linking again makes it reachable
	if chat := chatOf(); chat != 610 {
		t.Fatalf("relinked chat %d", chat)
	}
	if err := unlink(610, "stop"); err != nil {
		t.Fatal(err)
	}
	_, err := s.client.ResolveTelegramChat(service(), &identityv1.ResolveTelegramChatRequest{ChatId: 610})
	wantCode(t, err, codes.NotFound)

	if err := unlink(999, "stop"); err != nil {
		t.Fatalf("unlinking an unknown chat: %v", err)
	}
	wantField(t, unlink(610, "bored"), "reason")
	wantField(t, unlink(0, "stop"), "chatId")
}

func TestLinkCodesAreThrottledPerChat(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	l, err := s.client.CreateTelegramLink(s.admin(), &identityv1.CreateTelegramLinkRequest{})
	if err != nil {
		t.Fatal(err)
	}
	redeem := func(code string, chat int64) error {
		_, err := s.client.RedeemTelegramLink(service(), &identityv1.RedeemTelegramLinkRequest{Code: code, ChatId: chat})
		return err
	}
	const guesser, other = 7001, 7002
	for i := range linkTries {
		wantCode(t, redeem(fmt.Sprintf("ZZZZZZZ%d", i+2), guesser), codes.NotFound)
	}
	err = redeem(l.GetCode(), guesser)
	if wait := retryAfter(t, err); wait != linkWindow {
		t.Fatalf("wait %v, want the rest of the %v window", wait, linkWindow)
	}
	if got := reason(t, err, codes.ResourceExhausted); got != "LINK_CODE_THROTTLED" {
		t.Fatalf("reason %q", got)
	}
	wantCode(t, redeem("ZZZZZZZZ", other), codes.NotFound)
	s.clock.Advance(linkWindow)
	if err := redeem(l.GetCode(), guesser); err != nil {
		t.Fatalf("after the window the right code is refused: %v", err)
	}
}
