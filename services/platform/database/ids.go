package database

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// IDs hands out the ids of rows that are written after their id is known:
// a task or a contract whose workflow, named by the id, writes the row as
// its first step. Its table has the columns id (the sequence), reservation
// (an idempotency key's id, unique, or NULL) and created_at (microseconds).
// An id allocated under a reservation is that reservation's for as long as
// Keep, so a retried create joins the workflow of the first.
type IDs struct {
	Table string
	// Keep is how long, in microseconds, an allocated id is remembered.
	Keep int64
}

type idRow struct {
	ID          int64
	Reservation *string
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
}

// Allocate gives a new id, or the one already reserved under reservation
// ("" reserves nothing), at now (microseconds).
func (t IDs) Allocate(ctx context.Context, db *gorm.DB, reservation string, now int64) (int64, error) {
	var id int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		id, err = t.AllocateIn(tx, reservation, now)
		return err
	})
	if err != nil && reservation != "" && IsUniqueViolation(err) {
		// a concurrent retry reserved it first
		var prior idRow
		if e := db.WithContext(ctx).Table(t.Table).Where("reservation = ?", reservation).Take(&prior).Error; e == nil {
			return prior.ID, nil
		}
	}
	return id, err
}

// AllocateIn is Allocate within a transaction.
func (t IDs) AllocateIn(tx *gorm.DB, reservation string, now int64) (int64, error) {
	row := idRow{CreatedAt: now}
	if reservation != "" {
		var prior idRow
		err := tx.Table(t.Table).Where("reservation = ?", reservation).Take(&prior).Error
		if err == nil {
			return prior.ID, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return 0, err
		}
		row.Reservation = &reservation
	}
	if err := tx.Table(t.Table).Create(&row).Error; err != nil {
		return 0, err
	}
	// The newest id always stays: on SQLite it carries the sequence on.
	err := tx.Table(t.Table).Where("created_at < ? AND id < ?", now-t.Keep, row.ID).Delete(&idRow{}).Error
	return row.ID, err
}

// AllocateMany gives n new ids, unreserved, in one multi-row insert (an
// import writing contracts by the thousand).
func (t IDs) AllocateMany(tx *gorm.DB, n int, now int64) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	rows := make([]idRow, n)
	for i := range rows {
		rows[i].CreatedAt = now
	}
	if err := tx.Table(t.Table).CreateInBatches(&rows, InsertBatch).Error; err != nil {
		return nil, err
	}
	ids := make([]int64, n)
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// InsertBatch is the rows of one multi-row insert: far below the bound
// on bind parameters of PostgreSQL (65,535) and SQLite (32,766) for a
// table of a dozen columns.
const InsertBatch = 500

// CreateIDTable is the migration step that makes an IDs table whose
// sequence goes on from the highest id in the table of rows, from (and,
// on PostgreSQL, from that table's own sequence: ids given and since
// removed count as given).
func CreateIDTable(tx *gorm.DB, table, from string) error {
	type idTable struct {
		ID          int64   `gorm:"primaryKey"`
		Reservation *string `gorm:"size:300"`
		CreatedAt   int64   `gorm:"not null"`
	}
	if err := tx.Table(table).Migrator().CreateTable(&idTable{}); err != nil {
		return err
	}
	for _, ix := range []string{
		fmt.Sprintf(`CREATE UNIQUE INDEX %[1]s_reservation ON %[1]s (reservation)`, table),
		fmt.Sprintf(`CREATE INDEX %[1]s_created ON %[1]s (created_at)`, table),
	} {
		if err := tx.Exec(ix).Error; err != nil {
			return err
		}
	}
	last := int64(0)
	if err := tx.Raw(`SELECT COALESCE(max(id), 0) FROM ` + from).Scan(&last).Error; err != nil {
		return err
	}
	if IsPostgres(tx) {
		var seq int64
		if err := tx.Raw(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ` + sequenceOf(tx, from)).Scan(&seq).Error; err != nil {
			return err
		}
		last = max(last, seq)
	}
	if last == 0 {
		return nil
	}
	if err := tx.Exec(`INSERT INTO `+table+` (id, created_at) VALUES (?, 0)`, last).Error; err != nil {
		return err
	}
	if IsPostgres(tx) {
		return tx.Exec(`SELECT setval(pg_get_serial_sequence(?, 'id'), ?)`, table, last).Error
	}
	return nil
}

// sequenceOf names the sequence of a table's id column on PostgreSQL.
func sequenceOf(tx *gorm.DB, table string) string {
	var name string
	_ = tx.Raw(`SELECT pg_get_serial_sequence(?, 'id')`, table).Scan(&name).Error
	return name
}
