package contract

import (
	"time"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/locale"
)

// migrations are the contract service's schema steps, oldest first. The
// structs inside each step are frozen copies of the models of that day.
var migrations = []*database.Migration{
	{
		ID: "0001_tariffs_and_contracts",
		Migrate: func(tx *gorm.DB) error {
			type tariff struct {
				ID           int64  `gorm:"primaryKey"`
				Name         string `gorm:"size:200;not null"`
				CustomerKind int32  `gorm:"not null"`
				Technology   string `gorm:"size:20;not null"`
				SpeedMbps    int32  `gorm:"not null"`
				FeeMinor     int64  `gorm:"not null"`
				Currency     string `gorm:"size:3;not null"`
				Active       bool   `gorm:"not null"`
				Version      int64  `gorm:"not null;default:1"`
				CreatedAt    int64  `gorm:"not null"`
				UpdatedAt    int64  `gorm:"not null"`
			}
			// The number is written in the creating transaction, right
			// after the insert that gives the id it is made of; it is NULL
			// only inside that transaction.
			type contract struct {
				ID               int64   `gorm:"primaryKey"`
				Number           *string `gorm:"size:20;uniqueIndex:contracts_number_key"`
				CustomerID       int64   `gorm:"not null"`
				TariffID         int64   `gorm:"not null"`
				Address          string  `gorm:"size:500;not null"`
				Status           int32   `gorm:"not null"`
				ConnectionTaskID int64   `gorm:"not null;default:0"`
				Version          int64   `gorm:"not null;default:1"`
				CreatedAt        int64   `gorm:"not null"`
				UpdatedAt        int64   `gorm:"not null"`
				ActivatedAt      int64   `gorm:"not null;default:0"`
			}
			if err := tx.Table("tariffs").Migrator().CreateTable(&tariff{}); err != nil {
				return err
			}
			if err := tx.Table("contracts").Migrator().CreateTable(&contract{}); err != nil {
				return err
			}
			// A customer's contracts are listed newest first by id: the
			// index covers the filter and the order.
			return tx.Exec(`CREATE INDEX contracts_customer_id_id ON contracts (customer_id, id)`).Error
		},
	},
	{
		ID: "0002_default_tariffs",
		Migrate: func(tx *gorm.DB) error {
			type tariff struct {
				ID           int64 `gorm:"primaryKey"`
				Name         string
				CustomerKind int32
				Technology   string
				SpeedMbps    int32
				FeeMinor     int64
				Currency     string
				Active       bool
				Version      int64
				CreatedAt    int64
				UpdatedAt    int64
			}
			// The names are in the deployment's language (seed.go).
			loc := locale.FromContext(tx.Statement.Context)
			now := time.Now().UTC().UnixMicro()
			rows := make([]tariff, 0, len(defaultTariffs))
			for _, t := range defaultTariffs {
				rows = append(rows, tariff{Name: t.name.In(loc), CustomerKind: t.customerKind, Technology: t.technology, SpeedMbps: t.speedMbps, FeeMinor: t.feeMinor})
			}
			for i := range rows {
				rows[i].Currency, rows[i].Active, rows[i].Version = "RUB", true, 1
				rows[i].CreatedAt, rows[i].UpdatedAt = now, now
			}
			return tx.Table("tariffs").Create(&rows).Error
		},
	},
	ledger.Migration("0003_idempotency_keys"),
	{
		// A contract's id is allocated before its row, which its
		// connection workflow writes as its first step.
		ID: "0004_contract_ids",
		Migrate: func(tx *gorm.DB) error {
			return database.CreateIDTable(tx, "contract_ids", "contracts")
		},
	},
	{
		// Contracts were written before their connection workflow started,
		// and a sweep removed those whose workflow never did (the request
		// that opened them had failed) two minutes on. The sweep is gone:
		// this removes, once, what it would have removed. A younger one's
		// workflow may still be making its task; it is left to it.
		ID: "0005_stranded_pending_contracts",
		Migrate: func(tx *gorm.DB) error {
			const pending = 1
			cutoff := time.Now().Add(-2 * time.Minute).UTC().UnixMicro()
			return tx.Exec(`DELETE FROM contracts WHERE status = ? AND connection_task_id = 0 AND created_at < ?`, pending, cutoff).Error
		},
	},
	{
		// Imports: a checked file's rows (their reading and problems as
		// JSON) and the run's progress.
		ID: "0006_imports",
		Migrate: func(tx *gorm.DB) error {
			type imp struct {
				ID                 int64  `gorm:"primaryKey"`
				FileName           string `gorm:"size:200;not null"`
				Header             string `gorm:"size:2000;not null"`
				State              int32  `gorm:"not null"`
				TotalRows          int32  `gorm:"not null"`
				ProblemRows        int32  `gorm:"not null"`
				Customers          int32  `gorm:"not null"`
				ContractsAsIs      int32  `gorm:"not null"`
				ContractsToConnect int32  `gorm:"not null"`
				RowsDone           int32  `gorm:"not null;default:0"`
				CustomersCreated   int32  `gorm:"not null;default:0"`
				ContractsCreated   int32  `gorm:"not null;default:0"`
				Error              string `gorm:"size:2000;not null;default:''"`
				CreatedBy          int64  `gorm:"not null"`
				CreatedAt          int64  `gorm:"not null"`
				StartedAt          int64  `gorm:"not null;default:0"`
				FinishedAt         int64  `gorm:"not null;default:0"`
			}
			type row struct {
				ImportID   int64  `gorm:"primaryKey;autoIncrement:false"`
				RowNo      int32  `gorm:"primaryKey;autoIncrement:false"`
				Line       int32  `gorm:"not null"`
				GroupFirst int32  `gorm:"not null"`
				Data       string `gorm:"not null"`
				Problems   string `gorm:"not null;default:''"`
			}
			if err := tx.Table("imports").Migrator().CreateTable(&imp{}); err != nil {
				return err
			}
			if err := tx.Table("import_rows").Migrator().CreateTable(&row{}); err != nil {
				return err
			}
			return tx.Exec(`CREATE INDEX import_rows_problems ON import_rows (import_id, row_no) WHERE problems <> ''`).Error
		},
	},
}
