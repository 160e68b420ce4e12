package notifier

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Telegram updates are recorded before they are handled: an update
// Telegram delivers twice (a webhook call it thinks failed, a poll whose
// offset was not confirmed) is handled once, and one recorded but not
// handled when the notifier stopped is handled at the next start.
const (
	// updateMemory is how long recorded updates are kept: Telegram
	// redelivers an update for up to a day.
	updateMemory = 48 * time.Hour
	// maxUpdateAttempts bounds the starts that retry one update, so an
	// update that crashes the process cannot do so forever.
	maxUpdateAttempts = 3
)

// updateRow is a Telegram update as it came (Bot API JSON).
type updateRow struct {
	UpdateID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Payload    []byte
	ReceivedAt int64
	// HandledAt is 0 until a handler has run for the update.
	HandledAt int64
	// Attempts counts the starts that retried it.
	Attempts int32
}

func (updateRow) TableName() string { return "telegram_updates" }

// recordUpdate keeps an update before it is handled; it tells false for
// an update recorded before (a redelivery).
func (s *store) recordUpdate(ctx context.Context, id int64, payload []byte) (bool, error) {
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&updateRow{UpdateID: id, Payload: payload, ReceivedAt: s.micros()})
	return res.RowsAffected == 1, res.Error
}

func (s *store) updateHandled(ctx context.Context, id int64) error {
	return s.db.WithContext(ctx).Model(&updateRow{}).Where("update_id = ?", id).Update("handled_at", s.micros()).Error
}

// unhandledUpdates returns the updates recorded but not handled, oldest
// first, counting this start as an attempt on each.
func (s *store) unhandledUpdates(ctx context.Context) ([]updateRow, error) {
	var rows []updateRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("handled_at = 0 AND attempts < ?", maxUpdateAttempts).Order("update_id").Limit(1000).Find(&rows).Error; err != nil || len(rows) == 0 {
			return err
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.UpdateID
		}
		return tx.Model(&updateRow{}).Where("update_id IN ?", ids).Update("attempts", gorm.Expr("attempts + 1")).Error
	})
	return rows, err
}

// purgeUpdates forgets updates received before the cutoff.
func (s *store) purgeUpdates(ctx context.Context, before time.Time) error {
	return s.db.WithContext(ctx).Where("received_at < ?", before.UTC().UnixMicro()).Delete(&updateRow{}).Error
}
