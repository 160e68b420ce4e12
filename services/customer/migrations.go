package customer

import (
	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
)

// migrations are the customer service's schema steps, oldest first. The
// structs inside each step are frozen copies of the models of that day.
var migrations = []*database.Migration{
	{
		ID: "0001_customers_and_phones",
		Migrate: func(tx *gorm.DB) error {
			type customer struct {
				ID        int64  `gorm:"primaryKey"`
				Kind      int32  `gorm:"not null"`
				Name      string `gorm:"size:200;not null"`
				NameLower string `gorm:"size:200;not null"`
				Email     string `gorm:"size:254;not null;default:''"`
				Address   string `gorm:"size:500;not null;default:''"`
				Version   int64  `gorm:"not null;default:1"`
				CreatedAt int64  `gorm:"not null"`
				UpdatedAt int64  `gorm:"not null"`
			}
			type phone struct {
				ID         int64  `gorm:"primaryKey"`
				CustomerID int64  `gorm:"not null;index:phones_customer_id"`
				Number     string `gorm:"size:20;not null;uniqueIndex:phones_number_key"`
				Label      string `gorm:"size:50;not null;default:''"`
			}
			if err := tx.Table("customers").Migrator().CreateTable(&customer{}); err != nil {
				return err
			}
			if err := tx.Table("phones").Migrator().CreateTable(&phone{}); err != nil {
				return err
			}
			if !database.IsPostgres(tx) {
				return nil
			}
			// Phone prefixes are searched as ranges on the unique index; the C
			// collation makes its order the byte order the range assumes.
			// Name parts are found through trigrams of the lowered name.
			for _, stmt := range []string{
				`ALTER TABLE phones ALTER COLUMN number TYPE varchar(20) COLLATE "C"`,
				`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`,
				`CREATE INDEX customers_name_trgm ON customers USING gin (name_lower public.gin_trgm_ops)`,
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			return nil
		},
	},
	ledger.Migration("0002_idempotency_keys"),
	{
		// Names are searched folded (textsearch.Fold: lowered, ё as е), so
		// "Петр" finds "Пётр" and back; the stored lowered names are folded
		// alike. Any part of a phone number ("345-67", the last four
		// digits) is found through trigrams of the numbers on PostgreSQL;
		// SQLite reads the numbers.
		ID: "0003_folded_names_and_number_parts",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec(`UPDATE customers SET name_lower = replace(name_lower, 'ё', 'е') WHERE name_lower LIKE '%ё%'`).Error; err != nil {
				return err
			}
			if !database.IsPostgres(tx) {
				return nil
			}
			return tx.Exec(`CREATE INDEX phones_number_trgm ON phones USING gin (number public.gin_trgm_ops)`).Error
		},
	},
	{
		// Imported customers are written in batches; each batch's answer
		// is kept under its name so a repeated batch writes nothing twice.
		ID: "0004_import_batches",
		Migrate: func(tx *gorm.DB) error {
			type importBatch struct {
				Batch     string `gorm:"primaryKey;size:100"`
				Answer    []byte `gorm:"not null"`
				CreatedAt int64  `gorm:"not null"`
			}
			return tx.Table("import_batches").Migrator().CreateTable(&importBatch{})
		},
	},
	{
		// The numbers ending with a query's digits are read in the order of
		// the reversed numbers, from an index of them on PostgreSQL, so a
		// page of them stops after its numbers (SQLite reads the numbers,
		// reverse() given to it by the database package).
		ID: "0005_reversed_numbers",
		Migrate: func(tx *gorm.DB) error {
			if !database.IsPostgres(tx) {
				return nil
			}
			return tx.Exec(`CREATE INDEX phones_number_reversed ON phones (reverse(number))`).Error
		},
	},
}
