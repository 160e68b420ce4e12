package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
)

const (
	// linkAlphabet has no letters or digits one could mistake for another
	// (no I, O, 0, 1); 32 symbols, so a random byte picks one without bias.
	linkAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	linkLength   = 8
	linkTTL      = 15 * time.Minute
)

// linkRow is a one-time Telegram link code; only its hash is kept.
type linkRow struct {
	ID        int64
	CodeHash  string
	UserID    int64
	CreatedAt int64 `gorm:"autoCreateTime:false"`
	ExpiresAt int64
	UsedAt    int64
}

func (linkRow) TableName() string { return "telegram_links" }

// telegramUserRow binds a Telegram chat to a user.
type telegramUserRow struct {
	UserID      int64 `gorm:"primaryKey;autoIncrement:false"`
	ChatID      int64
	Username    string
	LinkedAt    int64
	Unreachable bool
}

func (telegramUserRow) TableName() string { return "telegram_users" }

func newLinkCode() (string, error) {
	var b [linkLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	code := make([]byte, linkLength)
	for i, v := range b {
		code[i] = linkAlphabet[int(v)%len(linkAlphabet)]
	}
	return string(code), nil
}

// normalizeLinkCode forgives case, spaces and dashes typed around a code.
func normalizeLinkCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
}

func hashLinkCode(code string) string {
	sum := sha256.Sum256([]byte("telegram-link:" + code))
	return hex.EncodeToString(sum[:])
}

// createLink stores a new code for the user; the user's earlier unused
// codes expire at once, so only the newest one works.
func (s *store) createLink(ctx context.Context, userID int64, hash string) (*linkRow, error) {
	now := s.now().UTC()
	row := &linkRow{CodeHash: hash, UserID: userID, CreatedAt: now.UnixMicro(), ExpiresAt: now.Add(linkTTL).UnixMicro()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&linkRow{}).Where("user_id = ? AND used_at = 0 AND expires_at > ?", userID, row.CreatedAt).
			Update("expires_at", row.CreatedAt).Error; err != nil {
			return err
		}
		return tx.Create(row).Error
	})
	return row, err
}

// redeem spends a code and binds chatID to its user, replacing the user's
// earlier chat and the chat's earlier user.
func (s *store) redeem(ctx context.Context, hash string, chatID int64, username string) (*userRow, error) {
	var u userRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var l linkRow
		if err := forUpdate(tx).Where("code_hash = ?", hash).Take(&l).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fault.New(fault.NotFound, "this link code is unknown; ask the console for a new one and send it as /start CODE").Because("LINK_CODE_UNKNOWN", nil)
			}
			return err
		}
		now := s.micros()
		if l.UsedAt != 0 {
			return fault.New(fault.FailedPrecondition, "this link code has been used already; ask the console for a new one").Because("LINK_CODE_USED", nil)
		}
		if now >= l.ExpiresAt {
			return fault.New(fault.FailedPrecondition, "this link code has expired (a code lasts 15 minutes); ask the console for a new one").Because("LINK_CODE_EXPIRED", nil)
		}
		res := tx.Model(&linkRow{}).Where("id = ? AND used_at = 0", l.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fault.New(fault.FailedPrecondition, "this link code has been used already; ask the console for a new one").Because("LINK_CODE_USED", nil)
		}
		if err := tx.Take(&u, l.UserID).Error; err != nil {
			return err
		}
		if !u.Active {
			return fault.New(fault.FailedPrecondition, "the user this code was made for is deactivated").Because("USER_INACTIVE", nil)
		}
		if err := tx.Where("user_id = ? OR chat_id = ?", u.ID, chatID).Delete(&telegramUserRow{}).Error; err != nil {
			return err
		}
		return tx.Create(&telegramUserRow{UserID: u.ID, ChatID: chatID, Username: username, LinkedAt: now}).Error
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func (s *store) chatOwner(ctx context.Context, chatID int64) (*telegramUserRow, error) {
	var rows []telegramUserRow
	if err := s.db.WithContext(ctx).Where("chat_id = ?", chatID).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

func (s *Server) CreateTelegramLink(ctx context.Context, _ *identityv1.CreateTelegramLinkRequest) (*identityv1.CreateTelegramLinkResponse, error) {
	id, err := signedInUser(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.store.userByID(ctx, id)
	if err != nil || !u.Active {
		if err == nil || fault.Is(err, fault.NotFound) {
			return nil, errSessionEnded
		}
		return nil, err
	}
	code, err := newLinkCode()
	if err != nil {
		return nil, err
	}
	row, err := s.store.createLink(ctx, id, hashLinkCode(code))
	if err != nil {
		return nil, err
	}
	resp := &identityv1.CreateTelegramLinkResponse{Code: code, ExpiresAt: micros.Proto(row.ExpiresAt)}
	if bot := strings.TrimPrefix(strings.TrimSpace(s.cfg.TelegramBotUsername), "@"); bot != "" {
		resp.DeepLink = "https://t.me/" + bot + "?start=" + code
	}
	return resp, nil
}

func (s *Server) RedeemTelegramLink(ctx context.Context, req *identityv1.RedeemTelegramLinkRequest) (*identityv1.RedeemTelegramLinkResponse, error) {
	code := normalizeLinkCode(req.GetCode())
	switch {
	case code == "":
		return nil, fault.Field("code", "the link code is missing")
	case req.GetChatId() == 0:
		return nil, fault.Field("chatId", "the chat id is missing")
	}
	wait, err := s.store.tryInWindow(ctx, chatSubject(req.GetChatId()), linkTries, linkWindow)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		s.logger(ctx).Info("link code refused: too many tries from the chat", "wait", wait)
		return nil, linkThrottled(wait)
	}
	username := clip(strings.TrimPrefix(req.GetTelegramUsername(), "@"), 64)
	u, err := s.store.redeem(ctx, hashLinkCode(code), req.GetChatId(), username)
	if err != nil {
		return nil, err
	}
	linked := say("telegram_linked")
	if username != "" {
		linked = say("telegram_linked_as", "username", "@"+username)
	}
	s.audit(ctx, auditRow{Action: "telegram.link", ActorID: u.ID, ActorLogin: u.Login, Target: userTarget(u.ID)}.with(linked))
	return &identityv1.RedeemTelegramLinkResponse{UserId: u.ID, DisplayName: u.DisplayName, Language: u.Language}, nil
}

func (s *Server) UnlinkTelegram(ctx context.Context, req *identityv1.UnlinkTelegramRequest) (*identityv1.UnlinkTelegramResponse, error) {
	reason := strings.ToLower(strings.TrimSpace(req.GetReason()))
	switch {
	case req.GetChatId() == 0:
		return nil, fault.Field("chatId", "the chat id is missing")
	case reason != "stop" && reason != "blocked":
		return nil, fault.Field("reason", "the reason is stop (the user asked) or blocked (the user blocked the bot)")
	}
	owner, err := s.store.chatOwner(ctx, req.GetChatId())
	if err != nil || owner == nil {
		return &identityv1.UnlinkTelegramResponse{}, err
	}
	db := s.store.db.WithContext(ctx)
	if reason == "stop" {
		err = db.Where("chat_id = ?", req.GetChatId()).Delete(&telegramUserRow{}).Error
	} else {
		err = db.Model(&telegramUserRow{}).Where("chat_id = ?", req.GetChatId()).Update("unreachable", true).Error
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, auditRow{Action: "telegram.unlink", ActorID: owner.UserID, Target: userTarget(owner.UserID)}.with(say("telegram_unlinked_"+reason)))
	return &identityv1.UnlinkTelegramResponse{}, nil
}

func (s *Server) UnlinkMyTelegram(ctx context.Context, _ *identityv1.UnlinkMyTelegramRequest) (*identityv1.UnlinkMyTelegramResponse, error) {
	p := caller(ctx)
	res := s.store.db.WithContext(ctx).Where("user_id = ?", p.UserID).Delete(&telegramUserRow{})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected > 0 {
		s.auditByCaller(ctx, "telegram.unlink", userTarget(p.UserID), say("telegram_unlinked_profile"))
	}
	return &identityv1.UnlinkMyTelegramResponse{}, nil
}

func (s *Server) ResolveTelegramChat(ctx context.Context, req *identityv1.ResolveTelegramChatRequest) (*identityv1.ResolveTelegramChatResponse, error) {
	owner, err := s.store.chatOwner(ctx, req.GetChatId())
	if err != nil {
		return nil, err
	}
	if owner == nil {
		return nil, fault.New(fault.NotFound, "this chat is not linked to a user; link it from the console first").Because("CHAT_NOT_LINKED", nil)
	}
	u, err := s.store.userByID(ctx, owner.UserID)
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, fault.New(fault.FailedPrecondition, "the user linked to this chat is deactivated").Because("USER_INACTIVE", nil)
	}
	perms, err := s.store.permissionsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.groupsOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &identityv1.ResolveTelegramChatResponse{
		UserId:      u.ID,
		Login:       u.Login,
		DisplayName: u.DisplayName,
		Language:    u.Language,
		Permissions: perms,
		GroupIds:    groups,
	}, nil
}
