package customer

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// customerRow and phoneRow are the service's tables. Times are Unix
// microseconds: the same in SQLite and PostgreSQL, and sortable.
type customerRow struct {
	ID        int64
	Kind      int32
	Name      string
	NameLower string
	Email     string
	Address   string
	Version   int64
	CreatedAt int64 `gorm:"autoCreateTime:false"`
	UpdatedAt int64 `gorm:"autoUpdateTime:false"`
	Phones    []phoneRow `gorm:"foreignKey:CustomerID"`
}

func (customerRow) TableName() string { return "customers" }

type phoneRow struct {
	ID         int64
	CustomerID int64
	Number     string
	Label      string
}

func (phoneRow) TableName() string { return "phones" }

// store is the customer service's access to its own tables.
type store struct {
	db  *gorm.DB
	now func() time.Time
}

func (s *store) micros() int64 { return s.now().UTC().UnixMicro() }

// errPhoneTaken reports a number another customer holds.
type errPhoneTaken struct {
	Number string
	Holder int64
}

func (e *errPhoneTaken) Error() string { return "phone " + e.Number + " is taken" }

// create writes a customer with its phones in one transaction.
func (s *store) create(ctx context.Context, c *customerRow) error {
	now := s.micros()
	c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
	c.NameLower = strings.ToLower(c.Name)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		phones := c.Phones
		c.Phones = nil
		if err := tx.Omit(clause.Associations).Create(c).Error; err != nil {
			return err
		}
		for i := range phones {
			phones[i].CustomerID = c.ID
		}
		c.Phones = phones
		return tx.Create(&c.Phones).Error
	})
	return s.phoneConflict(ctx, err, c.Phones)
}

// phoneConflict turns a unique violation on phones into errPhoneTaken naming
// the holder, so the caller can say who has the number.
func (s *store) phoneConflict(ctx context.Context, err error, phones []phoneRow) error {
	if err == nil || !database.IsUniqueViolation(err) {
		return err
	}
	numbers := make([]string, 0, len(phones))
	for _, p := range phones {
		numbers = append(numbers, p.Number)
	}
	var held phoneRow
	if lookup := s.db.WithContext(ctx).Where("number IN ?", numbers).Order("number").Take(&held).Error; lookup != nil {
		return err
	}
	return &errPhoneTaken{Number: held.Number, Holder: held.CustomerID}
}

func (s *store) get(ctx context.Context, id int64) (*customerRow, error) {
	var c customerRow
	err := s.db.WithContext(ctx).Preload("Phones", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).Take(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "customer %d does not exist", id)
	}
	return &c, err
}

// update writes the given columns if the row is still at version; a
// changed row is a lost race.
func (s *store) update(ctx context.Context, id, version int64, cols map[string]any) error {
	cols["version"] = gorm.Expr("version + 1")
	cols["updated_at"] = s.micros()
	res := s.db.WithContext(ctx).Model(&customerRow{}).Where("id = ? AND version = ?", id, version).Updates(cols)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		if _, err := s.get(ctx, id); err != nil {
			return err
		}
		return fault.New(fault.Aborted, "customer %d was changed by someone else meanwhile; reload it and try again", id).Because("STALE_ETAG", nil)
	}
	return nil
}

func (s *store) addPhone(ctx context.Context, p *phoneRow) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.touch(tx, p.CustomerID); err != nil {
			return err
		}
		return tx.Create(p).Error
	})
	return s.phoneConflict(ctx, err, []phoneRow{*p})
}

// removePhone deletes a phone unless it is the customer's last. The
// customer row is written first, so two removals of a two-phone customer
// are serialised and cannot both succeed.
func (s *store) removePhone(ctx context.Context, customerID, phoneID int64) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.touch(tx, customerID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&phoneRow{}).Where("customer_id = ?", customerID).Count(&n).Error; err != nil {
			return err
		}
		res := tx.Where("id = ? AND customer_id = ?", phoneID, customerID).Delete(&phoneRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fault.New(fault.NotFound, "customer %d has no phone %d", customerID, phoneID)
		}
		if n <= 1 {
			return fault.New(fault.FailedPrecondition, "a customer keeps at least one phone; add another before removing this one")
		}
		return nil
	})
}

// touch bumps a customer's version (its etag changes with its phones) and
// takes the row's write lock for the rest of the transaction.
func (s *store) touch(tx *gorm.DB, id int64) error {
	res := tx.Model(&customerRow{}).Where("id = ?", id).Updates(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": s.micros()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fault.New(fault.NotFound, "customer %d does not exist", id)
	}
	return nil
}

// byIDs loads customers with their phones, in the order of ids.
func (s *store) byIDs(ctx context.Context, ids []int64) ([]customerRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []customerRow
	if err := s.db.WithContext(ctx).Preload("Phones", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	pos := make(map[int64]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	out := make([]customerRow, len(ids))
	found := make([]bool, len(ids))
	for _, r := range rows {
		out[pos[r.ID]], found[pos[r.ID]] = r, true
	}
	kept := out[:0]
	for i, r := range out {
		if found[i] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// phoneHit is one phone found by prefix, for keyset paging by number.
type phoneHit struct {
	CustomerID int64
	Number     string
}

// byNumberPrefix finds phones whose number starts with prefix, after the
// number `after`, as an index range scan.
func (s *store) byNumberPrefix(ctx context.Context, prefix, after string, limit int) ([]phoneHit, error) {
	q := s.db.WithContext(ctx).Model(&phoneRow{}).Select("customer_id, number").
		Where("number >= ? AND number < ?", prefix, prefixUpperBound(prefix))
	if after != "" {
		q = q.Where("number > ?", after)
	}
	var hits []phoneHit
	err := q.Order("number").Limit(limit).Scan(&hits).Error
	return hits, err
}

// byName finds customers whose lowered name contains part, newest first,
// below the id `before` (0: from the newest).
func (s *store) byName(ctx context.Context, part string, before int64, limit int) ([]int64, error) {
	q := s.db.WithContext(ctx).Model(&customerRow{})
	if part != "" {
		q = q.Where("name_lower LIKE ? ESCAPE '\\'", "%"+escapeLike(strings.ToLower(part))+"%")
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var ids []int64
	err := q.Order("id DESC").Limit(limit).Pluck("id", &ids).Error
	return ids, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
