package identity

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Sign-in throttling. Every attempt is counted, in the database, before its
// password is checked: one transaction locks the counters, takes the
// attempt and writes the count, so a parallel burst gets no more guesses
// than a sequence would, and the count survives a restart and holds across
// replicas. A success takes its attempt back.
//
// Two subjects are counted per attempt:
//   - its login (attempted or real). After throttleAfter failures in a row
//     each further attempt must wait: 1 s, then twice as long after each new
//     failure, never more than throttleCap. While it must wait, the attempt
//     is refused even with the right password; the wait stays short enough
//     that nobody can lock a user out for good. A success clears the count.
//   - its client address. Many people may share one (an office behind a
//     proxy), so the address only slows down: after addressAfter failures
//     each attempt from it waits before its password is checked, at most
//     addressDelayCap, and a right password always gets in. A success takes
//     back only its own attempt, so signing in to one's own account between
//     guesses does not reset the count; it fades after throttleMemory
//     without failures.
const (
	throttleAfter   = 10
	throttleFirst   = time.Second
	throttleCap     = 15 * time.Minute
	throttleMemory  = 24 * time.Hour
	addressAfter    = 20
	addressDelayCap = 4 * time.Second
)

type throttleRow struct {
	Subject       string `gorm:"primaryKey"`
	Failures      int32
	NextAllowedAt int64
	LastFailureAt int64
}

func (throttleRow) TableName() string { return "login_throttles" }

// throttleDelay is a login's wait after the given number of failures in a
// row.
func throttleDelay(failures int32) time.Duration {
	return doubling(failures, throttleAfter, throttleCap)
}

// addressDelay is how long an attempt from an address with the given
// number of failures is held before its password is checked.
func addressDelay(failures int32) time.Duration {
	return doubling(failures, addressAfter, addressDelayCap)
}

// doubling is 0 below after failures, then 1 s doubling per failure up to
// limit.
func doubling(failures, after int32, limit time.Duration) time.Duration {
	if failures < after {
		return 0
	}
	n := failures - after
	if n >= 20 {
		return limit
	}
	return min(throttleFirst<<n, limit)
}

// failuresAt is the count in force at now: a count left alone for
// throttleMemory is forgotten.
func (r *throttleRow) failuresAt(now int64) int32 {
	if now-r.LastFailureAt > throttleMemory.Microseconds() {
		return 0
	}
	return r.Failures
}

func accountSubject(login string) string { return "login:" + login }
func addressSubject(addr string) string  { return "address:" + addr }

// lockThrottle returns a subject's counter, created when new, locked until
// the transaction ends. The insert comes first, so on SQLite too the
// transaction holds the write lock before it reads.
func lockThrottle(tx *gorm.DB, subject string) (throttleRow, error) {
	var r throttleRow
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&throttleRow{Subject: subject}).Error; err != nil {
		return r, err
	}
	err := forUpdate(tx).Where("subject = ?", subject).Take(&r).Error
	return r, err
}

// attempt counts a sign-in attempt against its login and, when known, its
// client address, as a failure until success says otherwise. refused > 0
// means the login must wait that long and nothing was counted; delay is how
// long the address's count holds the attempt before its check.
func (s *store) attempt(ctx context.Context, login, address string) (refused, delay time.Duration, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		acc, err := lockThrottle(tx, accountSubject(login))
		if err != nil {
			return err
		}
		now := s.micros()
		if acc.NextAllowedAt > now {
			refused = time.Duration(acc.NextAllowedAt-now) * time.Microsecond
			return nil
		}
		f := acc.failuresAt(now) + 1
		next := acc.NextAllowedAt
		if f >= throttleAfter {
			next = now + throttleDelay(f).Microseconds()
		}
		if err := tx.Model(&throttleRow{}).Where("subject = ?", acc.Subject).Updates(map[string]any{
			"failures": f, "next_allowed_at": next, "last_failure_at": now,
		}).Error; err != nil {
			return err
		}
		if address == "" {
			return nil
		}
		addr, err := lockThrottle(tx, addressSubject(address))
		if err != nil {
			return err
		}
		prior := addr.failuresAt(now)
		delay = addressDelay(prior)
		return tx.Model(&throttleRow{}).Where("subject = ?", addr.Subject).Updates(map[string]any{
			"failures": prior + 1, "last_failure_at": now,
		}).Error
	})
	return refused, delay, err
}

// succeeded takes back a successful attempt: its login's count is cleared,
// its address's count loses this one attempt.
func (s *store) succeeded(ctx context.Context, login, address string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("subject = ?", accountSubject(login)).Delete(&throttleRow{}).Error; err != nil {
			return err
		}
		if address == "" {
			return nil
		}
		return tx.Model(&throttleRow{}).Where("subject = ? AND failures > 0", addressSubject(address)).
			Update("failures", gorm.Expr("failures - 1")).Error
	})
}

// Link codes are tried per Telegram chat: linkTries in a linkWindow, then
// the chat waits for the window's end, so a chat cannot walk the codes.
const (
	linkTries  = 5
	linkWindow = 10 * time.Minute
)

func chatSubject(chatID int64) string { return "telegram-chat:" + strconv.FormatInt(chatID, 10) }

// tryInWindow counts one try against a subject allowed limit tries per
// window, before the try is made; it answers how long to wait when the
// window's tries are spent (nothing counted then). NextAllowedAt holds the
// window's end.
func (s *store) tryInWindow(ctx context.Context, subject string, limit int32, window time.Duration) (wait time.Duration, err error) {
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := lockThrottle(tx, subject)
		if err != nil {
			return err
		}
		now := s.micros()
		cols := map[string]any{"failures": r.Failures + 1, "last_failure_at": now}
		switch {
		case now >= r.NextAllowedAt:
			cols["failures"], cols["next_allowed_at"] = 1, now+window.Microseconds()
		case r.Failures >= limit:
			wait = time.Duration(r.NextAllowedAt-now) * time.Microsecond
			return nil
		}
		return tx.Model(&throttleRow{}).Where("subject = ?", subject).Updates(cols).Error
	})
	return wait, err
}
