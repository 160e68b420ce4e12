// Package ledger keeps the idempotency records of a service in its own
// database: the table every service adds with Migration, the Store the
// idempotency interceptor uses, and the sweep that forgets old records.
package ledger

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/process"
)

const table = "idempotency_keys"

// row is the table's model. Times are Unix microseconds, as in every table.
type row struct {
	Caller    string `gorm:"primaryKey;size:100"`
	Method    string `gorm:"primaryKey;size:200"`
	IdemKey   string `gorm:"primaryKey;size:128"`
	Hash      string `gorm:"size:64;not null"`
	Done      bool   `gorm:"not null;default:false"`
	Code      int32  `gorm:"not null;default:0"`
	Body      []byte
	CreatedAt int64 `gorm:"not null;index:idempotency_keys_created_at;autoCreateTime:false"`
}

// Migration creates the table; each service lists it among its own
// migrations under an id of its numbering.
func Migration(id string) *database.Migration {
	return &database.Migration{
		ID: id,
		Migrate: func(tx *gorm.DB) error {
			// a frozen copy of row, as migrations keep
			type idempotencyKey struct {
				Caller    string `gorm:"primaryKey;size:100"`
				Method    string `gorm:"primaryKey;size:200"`
				IdemKey   string `gorm:"primaryKey;size:128"`
				Hash      string `gorm:"size:64;not null"`
				Done      bool   `gorm:"not null;default:false"`
				Code      int32  `gorm:"not null;default:0"`
				Body      []byte
				CreatedAt int64 `gorm:"not null;index:idempotency_keys_created_at"`
			}
			return tx.Table(table).Migrator().CreateTable(&idempotencyKey{})
		},
	}
}

// Ledger is the records of one service.
type Ledger struct {
	db  *gorm.DB
	now func() time.Time
}

// New returns the ledger kept in db (migrated with Migration).
func New(db *gorm.DB) *Ledger { return &Ledger{db: db, now: time.Now} }

// ServerOption installs the idempotency interceptor on a service's server
// (grpcserver.New's extra options), innermost.
func (l *Ledger) ServerOption() grpc.ServerOption {
	return grpc.ChainUnaryInterceptor(idempotency.UnaryServerInterceptor(l, l.now))
}

// Sweep forgets records older than idempotency.TTL, hourly, until ctx ends.
func (l *Ledger) Sweep(ctx context.Context, log *slog.Logger) {
	process.Every(ctx, time.Hour, func(ctx context.Context) {
		if _, err := l.purge(ctx); err != nil && ctx.Err() == nil {
			log.Warn("forgetting old idempotency keys failed; will retry", "err", err)
		}
	})
}

func (l *Ledger) purge(ctx context.Context) (int64, error) {
	res := l.db.WithContext(ctx).Table(table).Where("created_at < ?", l.now().Add(-idempotency.TTL).UnixMicro()).Delete(&row{})
	return res.RowsAffected, res.Error
}

func (l *Ledger) where(ctx context.Context, caller, method, key string) *gorm.DB {
	return l.db.WithContext(ctx).Table(table).Where("caller = ? AND method = ? AND idem_key = ?", caller, method, key)
}

// Claim implements idempotency.Store: the primary key admits one claim.
func (l *Ledger) Claim(ctx context.Context, caller, method, key, hash string, now time.Time) (bool, error) {
	res := l.db.WithContext(ctx).Table(table).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&row{Caller: caller, Method: method, IdemKey: key, Hash: hash, CreatedAt: now.UnixMicro()})
	return res.RowsAffected == 1, res.Error
}

// Get implements idempotency.Store.
func (l *Ledger) Get(ctx context.Context, caller, method, key string) (*idempotency.Record, error) {
	var r []row
	if err := l.where(ctx, caller, method, key).Limit(1).Find(&r).Error; err != nil || len(r) == 0 {
		return nil, err
	}
	return &idempotency.Record{
		Hash: r[0].Hash, Done: r[0].Done, Code: codes.Code(r[0].Code), Body: r[0].Body,
		CreatedAt: time.UnixMicro(r[0].CreatedAt),
	}, nil
}

// Finish implements idempotency.Store.
func (l *Ledger) Finish(ctx context.Context, caller, method, key string, code codes.Code, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	return l.where(ctx, caller, method, key).Updates(map[string]any{"done": true, "code": int32(code), "body": body}).Error
}

// Drop implements idempotency.Store.
func (l *Ledger) Drop(ctx context.Context, caller, method, key string, createdAt time.Time) error {
	q := l.where(ctx, caller, method, key)
	if !createdAt.IsZero() {
		q = q.Where("created_at = ?", createdAt.UnixMicro())
	}
	return q.Delete(&row{}).Error
}
