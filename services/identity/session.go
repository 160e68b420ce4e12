package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"gorm.io/gorm"
)

// touchEvery bounds how often a session's last use is written: at most
// every 30 s, not on every request. The gateway asks again at least as
// often while the session is used (it keeps an answer at most 30 s), so
// the recorded last use trails the real one by under a minute, as it did
// when every request was checked here.
const touchEvery = 30 * time.Second

// tokenBytes is the size of an access token's randomness.
const tokenBytes = 32

// sessionRow is a signed-in session. Only the SHA-256 of its access token
// is kept, so a copy of the table opens no session.
type sessionRow struct {
	ID          int64
	TokenHash   string
	UserID      int64
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
	LastSeenAt  int64
	ExpiresAt   int64
	LastAddress string
}

func (sessionRow) TableName() string { return "sessions" }

// newToken returns a fresh access token and the hash to store for it.
func newToken() (token, hash string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// plausibleToken tells whether a string could be one of our tokens, so
// garbage is refused without a lookup.
func plausibleToken(token string) bool {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

func (s *store) createSession(ctx context.Context, userID int64, hash, address string, max time.Duration) (*sessionRow, error) {
	now := s.now().UTC()
	row := &sessionRow{
		TokenHash: hash, UserID: userID, LastAddress: address,
		CreatedAt: now.UnixMicro(), LastSeenAt: now.UnixMicro(), ExpiresAt: now.Add(max).UnixMicro(),
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The user's ended sessions go as a new one starts.
		if err := tx.Where("user_id = ? AND expires_at <= ?", userID, row.CreatedAt).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		return tx.Create(row).Error
	})
	return row, err
}

// sessionUser is a session joined with its user, as Authenticate needs it.
type sessionUser struct {
	ID          int64
	UserID      int64
	LastSeenAt  int64
	ExpiresAt   int64
	Login       string
	DisplayName string
	Active      bool
	// MustChangePassword is the user's: the session may only change it.
	MustChangePassword bool
}

// sessionByHash finds a session by its token's hash: one lookup on a
// unique index. No row is (nil, nil).
func (s *store) sessionByHash(ctx context.Context, hash string) (*sessionUser, error) {
	var rows []sessionUser
	err := s.db.WithContext(ctx).Raw(`SELECT s.id, s.user_id, s.last_seen_at, s.expires_at, u.login, u.display_name, u.active, u.must_change_password
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, hash).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// touchSession records a session's use; lastSeen guards against writing
// twice when two requests race.
func (s *store) touchSession(ctx context.Context, id, lastSeen, now int64, address string) error {
	cols := map[string]any{"last_seen_at": now}
	if address != "" {
		cols["last_address"] = address
	}
	return s.db.WithContext(ctx).Model(&sessionRow{}).Where("id = ? AND last_seen_at = ?", id, lastSeen).Updates(cols).Error
}

func (s *store) endSession(ctx context.Context, id int64) error {
	return s.db.WithContext(ctx).Where("id = ?", id).Delete(&sessionRow{}).Error
}

// endUserSession ends a session if it is the user's; it tells whether one
// was ended.
func (s *store) endUserSession(ctx context.Context, userID, id int64) (bool, error) {
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&sessionRow{})
	return res.RowsAffected > 0, res.Error
}

// purge removes what can no longer be used: ended sessions, forgotten
// throttle counters, link codes a day past their expiry.
func (s *store) purge(ctx context.Context, idle time.Duration) error {
	now := s.now().UTC()
	db := s.db.WithContext(ctx)
	nowUS := now.UnixMicro()
	if err := db.Where("expires_at <= ? OR last_seen_at <= ?", nowUS, now.Add(-idle).UnixMicro()).Delete(&sessionRow{}).Error; err != nil {
		return err
	}
	if err := db.Where("last_failure_at <= ? AND next_allowed_at <= ?", now.Add(-throttleMemory).UnixMicro(), nowUS).Delete(&throttleRow{}).Error; err != nil {
		return err
	}
	return db.Where("expires_at <= ?", now.Add(-24*time.Hour).UnixMicro()).Delete(&linkRow{}).Error
}
