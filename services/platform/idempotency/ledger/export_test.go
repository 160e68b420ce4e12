package ledger

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// NewAt is New on the clock now, for the tests, which move time by hand.
func NewAt(db *gorm.DB, now func() time.Time) *Ledger { return &Ledger{db: db, now: now} }

// Purge is purge, for the tests.
func (l *Ledger) Purge(ctx context.Context) (int64, error) { return l.purge(ctx) }
