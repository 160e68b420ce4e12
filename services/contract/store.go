package contract

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/micros"
)

// tariffRow and contractRow are the service's tables. Times are Unix
// microseconds, the same in SQLite and PostgreSQL.
type tariffRow struct {
	ID           int64
	Name         string
	CustomerKind int32
	Technology   string
	SpeedMbps    int32
	FeeMinor     int64
	Currency     string
	Active       bool
	Version      int64
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	UpdatedAt    int64 `gorm:"autoUpdateTime:false"`
}

func (tariffRow) TableName() string { return "tariffs" }

type contractRow struct {
	ID               int64
	Number           *string
	CustomerID       int64
	TariffID         int64
	Address          string
	Status           int32
	ConnectionTaskID int64
	Version          int64
	CreatedAt        int64 `gorm:"autoCreateTime:false"`
	UpdatedAt        int64 `gorm:"autoUpdateTime:false"`
	ActivatedAt      int64
}

func (contractRow) TableName() string { return "contracts" }

// store is the contract service's access to its own tables.
type store struct {
	db  *gorm.DB
	now func() time.Time
}

func (s *store) micros() int64 { return micros.Of(s.now()) }

// --- tariffs ---------------------------------------------------------------

func (s *store) createTariff(ctx context.Context, t *tariffRow) error {
	now := s.micros()
	t.CreatedAt, t.UpdatedAt, t.Version = now, now, 1
	return s.db.WithContext(ctx).Create(t).Error
}

func (s *store) tariff(ctx context.Context, id int64) (*tariffRow, error) {
	var t tariffRow
	err := s.db.WithContext(ctx).Take(&t, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "tariff %d does not exist", id)
	}
	return &t, err
}

// updateTariff writes the given columns if the row is still at version,
// and tells whether it did.
func (s *store) updateTariff(ctx context.Context, id, version int64, cols map[string]any) (bool, error) {
	return database.UpdateVersioned(s.db.WithContext(ctx), &tariffRow{}, id, version, cols, s.micros())
}

// tariffFilter selects tariffs for a listing.
type tariffFilter struct {
	IncludeInactive bool
	Kind            int32
	After           int64
}

func (s *store) tariffs(ctx context.Context, f tariffFilter, limit int) ([]tariffRow, error) {
	q := s.db.WithContext(ctx).Model(&tariffRow{})
	if !f.IncludeInactive {
		q = q.Where("active = ?", true)
	}
	if f.Kind != 0 {
		q = q.Where("customer_kind = ?", f.Kind)
	}
	if f.After > 0 {
		q = q.Where("id > ?", f.After)
	}
	var rows []tariffRow
	err := q.Order("id").Limit(limit).Find(&rows).Error
	return rows, err
}

// suitable returns the active tariffs of a kind and currency; the caller
// filters and ranks them (there are dozens, not thousands).
func (s *store) suitable(ctx context.Context, kind int32, currency string) ([]tariffRow, error) {
	var rows []tariffRow
	err := s.db.WithContext(ctx).Where("active = ? AND customer_kind = ? AND currency = ?", true, kind, currency).Find(&rows).Error
	return rows, err
}

// --- contracts -------------------------------------------------------------

// contractIDs hands out contract ids; one allocated under an idempotency
// key is that key's for as long as a retry under it is answered.
var contractIDs = database.IDs{Table: "contract_ids", Keep: idempotency.TTL.Microseconds()}

// allocate gives a new contract id, or the one reserved under reservation.
func (s *store) allocate(ctx context.Context, reservation string) (int64, error) {
	return contractIDs.Allocate(ctx, s.db, reservation, s.micros())
}

// record writes a new contract, pending, under its allocated id, made at
// (microseconds); a contract already written under the id is answered as
// it stands.
func (s *store) record(ctx context.Context, c *contractRow, at int64) (*contractRow, error) {
	c.CreatedAt, c.UpdatedAt, c.Version = at, at, 1
	c.Status = int32(contractv1.ContractStatus_CONTRACT_STATUS_PENDING)
	number := formatNumber(c.ID)
	c.Number = &number
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&contractRow{}).Where("id = ?", c.ID).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		return tx.Create(c).Error
	})
	if err != nil {
		return nil, err
	}
	return s.contract(ctx, c.ID)
}

func (s *store) contract(ctx context.Context, id int64) (*contractRow, error) {
	var c contractRow
	err := s.db.WithContext(ctx).Take(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "contract %d does not exist", id)
	}
	return &c, err
}

// contracts lists contracts newest first, below the id before (0: from the
// newest); customerID 0 lists every customer's.
func (s *store) contracts(ctx context.Context, customerID, before int64, limit int) ([]contractRow, error) {
	q := s.db.WithContext(ctx).Model(&contractRow{})
	if customerID != 0 {
		q = q.Where("customer_id = ?", customerID)
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []contractRow
	err := q.Order("id DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

func (s *store) byNumber(ctx context.Context, number string) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&contractRow{}).Where("number = ?", number).Pluck("customer_id", &ids).Error
	return ids, err
}

// transition moves a contract to status `to` from one of the statuses
// `from`, in one conditional update, so two callers racing cannot both
// move it. A contract already at `to` is left alone (the call is
// idempotent); any other status is an impossible transition.
func (s *store) transition(ctx context.Context, id int64, to contractv1.ContractStatus, from ...contractv1.ContractStatus) (*contractRow, error) {
	now := s.micros()
	cols := map[string]any{"status": int32(to), "updated_at": now, "version": gorm.Expr("version + 1")}
	if to == contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE {
		// The first activation is remembered; a resume keeps it.
		cols["activated_at"] = gorm.Expr("CASE WHEN activated_at = 0 THEN ? ELSE activated_at END", now)
	}
	froms := make([]int32, len(from))
	for i, f := range from {
		froms[i] = int32(f)
	}
	res := s.db.WithContext(ctx).Model(&contractRow{}).Where("id = ? AND status IN ?", id, froms).Updates(cols)
	if res.Error != nil {
		return nil, res.Error
	}
	c, err := s.contract(ctx, id)
	if err != nil {
		return nil, err
	}
	if res.RowsAffected == 0 && c.Status != int32(to) {
		return nil, fault.New(fault.FailedPrecondition, "contract %s is %s; it cannot become %s",
			c.number(), statusWord(contractv1.ContractStatus(c.Status)), statusWord(to)).
			Because("CONTRACT_STATUS", map[string]string{"status": contractv1.ContractStatus(c.Status).String()})
	}
	return c, nil
}

// changeTariff puts an active or suspended contract on a tariff still
// offered; a contract already on it is answered as it is.
func (s *store) changeTariff(ctx context.Context, id int64, t *tariffRow) (*contractRow, error) {
	c, err := s.contract(ctx, id)
	if err != nil || c.TariffID == t.ID {
		return c, err
	}
	if !t.Active {
		return nil, fault.Field("tariffId", "tariff %q is no longer offered; choose another", t.Name).Because("TARIFF_INACTIVE", nil)
	}
	res := s.db.WithContext(ctx).Model(&contractRow{}).
		Where("id = ? AND status IN ?", id, []int32{int32(contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE), int32(contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED)}).
		Updates(map[string]any{"tariff_id": t.ID, "updated_at": s.micros(), "version": gorm.Expr("version + 1")})
	if res.Error != nil {
		return nil, res.Error
	}
	if c, err = s.contract(ctx, id); err != nil {
		return nil, err
	}
	if res.RowsAffected == 0 && c.TariffID != t.ID {
		return nil, fault.New(fault.FailedPrecondition, "contract %s is %s; only an active or suspended contract changes its tariff",
			c.number(), statusWord(contractv1.ContractStatus(c.Status))).
			Because("CONTRACT_STATUS", map[string]string{"status": contractv1.ContractStatus(c.Status).String()})
	}
	return c, nil
}

// setConnectionTask records the task once; the same task again changes
// nothing, another one is refused.
func (s *store) setConnectionTask(ctx context.Context, id, taskID int64) (*contractRow, error) {
	res := s.db.WithContext(ctx).Model(&contractRow{}).Where("id = ? AND connection_task_id = 0", id).
		Updates(map[string]any{"connection_task_id": taskID, "updated_at": s.micros(), "version": gorm.Expr("version + 1")})
	if res.Error != nil {
		return nil, res.Error
	}
	c, err := s.contract(ctx, id)
	if err != nil {
		return nil, err
	}
	if res.RowsAffected == 0 && c.ConnectionTaskID != taskID {
		return nil, fault.New(fault.FailedPrecondition, "contract %s already has connection task %d", c.number(), c.ConnectionTaskID)
	}
	return c, nil
}

// deletePending removes a PENDING contract without a connection task. One
// that is gone already is fine: a compensation may run twice.
func (s *store) deletePending(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ? AND status = ? AND connection_task_id = 0", id, int32(contractv1.ContractStatus_CONTRACT_STATUS_PENDING)).Delete(&contractRow{})
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error
	}
	c, err := s.contract(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Status != int32(contractv1.ContractStatus_CONTRACT_STATUS_PENDING) {
		return fault.New(fault.FailedPrecondition, "contract %s is %s; only a pending contract can be removed", c.number(), statusWord(contractv1.ContractStatus(c.Status)))
	}
	return fault.New(fault.FailedPrecondition, "contract %s has connection task %d; cancel the task instead", c.number(), c.ConnectionTaskID)
}

func (c *contractRow) number() string {
	if c.Number == nil {
		return formatNumber(c.ID)
	}
	return *c.Number
}
