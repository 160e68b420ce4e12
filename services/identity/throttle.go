package identity

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Sign-in throttling. Failures are counted per subject (a login, attempted
// or real, and a client address) in the database, so the count survives a
// restart and holds across replicas. After throttleAfter failures in a row
// each further attempt must wait: 1 s, then twice as long after each new
// failure, never more than throttleCap. The wait is refused even with the
// right password, but it is always short enough that nobody can lock a
// user out for good. A success clears its login's count; an address's
// count only fades after throttleMemory without failures (otherwise one
// could reset it by signing in to one's own account between guesses).
const (
	throttleAfter  = 10
	throttleFirst  = time.Second
	throttleCap    = 15 * time.Minute
	throttleMemory = 24 * time.Hour
)

type throttleRow struct {
	Subject       string `gorm:"primaryKey"`
	Failures      int32
	NextAllowedAt int64
	LastFailureAt int64
}

func (throttleRow) TableName() string { return "login_throttles" }

// throttleDelay is the wait after the given number of failures in a row.
func throttleDelay(failures int32) time.Duration {
	if failures < throttleAfter {
		return 0
	}
	n := failures - throttleAfter
	if n >= 20 {
		return throttleCap
	}
	return min(throttleFirst<<n, throttleCap)
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

// admit decides whether a sign-in attempt may go ahead for all subjects,
// or how long it must wait. While delays are in force each admitted attempt
// takes its slot at once (the next one must wait the current delay), so a
// burst of parallel attempts gets one guess, not many.
func (s *store) admit(ctx context.Context, subjects []string) (time.Duration, error) {
	var rows []throttleRow
	if err := s.db.WithContext(ctx).Where("subject IN ?", subjects).Find(&rows).Error; err != nil {
		return 0, err
	}
	now := s.micros()
	if wait := longestWait(rows, now); wait > 0 {
		return wait, nil
	}
	for _, r := range rows {
		f := r.failuresAt(now)
		if f < throttleAfter {
			continue
		}
		next := now + throttleDelay(f).Microseconds()
		res := s.db.WithContext(ctx).Model(&throttleRow{}).
			Where("subject = ? AND next_allowed_at = ?", r.Subject, r.NextAllowedAt).
			Update("next_allowed_at", next)
		if res.Error != nil {
			return 0, res.Error
		}
		if res.RowsAffected == 0 {
			// Another attempt took the slot first.
			var cur []throttleRow
			if err := s.db.WithContext(ctx).Where("subject = ?", r.Subject).Find(&cur).Error; err != nil {
				return 0, err
			}
			return max(longestWait(cur, s.micros()), time.Second), nil
		}
	}
	return 0, nil
}

func longestWait(rows []throttleRow, now int64) time.Duration {
	var wait time.Duration
	for _, r := range rows {
		if r.NextAllowedAt > now {
			wait = max(wait, time.Duration(r.NextAllowedAt-now)*time.Microsecond)
		}
	}
	return wait
}

// fail counts a failed attempt against each subject.
func (s *store) fail(ctx context.Context, subjects []string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, subject := range subjects {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&throttleRow{Subject: subject}).Error; err != nil {
				return err
			}
			var r throttleRow
			if err := forUpdate(tx).Where("subject = ?", subject).Take(&r).Error; err != nil {
				return err
			}
			now := s.micros()
			f := r.failuresAt(now) + 1
			next := r.NextAllowedAt
			if f >= throttleAfter {
				next = max(next, now+throttleDelay(f).Microseconds())
			}
			if err := tx.Model(&throttleRow{}).Where("subject = ?", subject).Updates(map[string]any{
				"failures": f, "next_allowed_at": next, "last_failure_at": now,
			}).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// clear forgets a subject's failures (a login that succeeded).
func (s *store) clear(ctx context.Context, subject string) error {
	return s.db.WithContext(ctx).Where("subject = ?", subject).Delete(&throttleRow{}).Error
}
