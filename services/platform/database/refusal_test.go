package database_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// openPostgres opens a throwaway database with one small table, or skips
// when the PostgreSQL suite is not asked for.
func openPostgres(t *testing.T) *gorm.DB {
	t.Helper()
	admin := os.Getenv("CRM_TEST_DATABASE_URL")
	if admin == "" {
		t.Skip("CRM_TEST_DATABASE_URL is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, drop, err := database.Throwaway(ctx, admin, "crm_test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	migrations := []*database.Migration{{ID: "0001", Migrate: func(tx *gorm.DB) error {
		return tx.Exec(`CREATE TABLE notes (id bigserial PRIMARY KEY, text varchar(5) NOT NULL UNIQUE, n smallint NOT NULL DEFAULT 0 CHECK (n >= 0))`).Error
	}}}
	db, err := database.Open(ctx, config.Common{DatabaseURL: url}, "refusals", slog.New(slog.NewTextHandler(io.Discard, nil)), migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(db) })
	return db
}

type note struct {
	ID   int64
	Text string
	N    int64
}

func TestTheDatabaseRefusingTheDataIsAnInvalidFault(t *testing.T) {
	db := openPostgres(t)
	ctx := context.Background()
	if err := db.WithContext(ctx).Table("notes").Create(&note{Text: "жжжжж"}).Error; err != nil {
		t.Fatalf("five Cyrillic letters fit varchar(5): %v", err)
	}
	for _, tc := range []struct {
		name  string
		write func() error
	}{
		{"too long (22001)", func() error { return db.Table("notes").Create(&note{Text: "жжжжжж"}).Error }},
		{"a NUL (22021)", func() error { return db.Table("notes").Create(&note{Text: "a\x00b"}).Error }},
		{"a check broken (23514)", func() error { return db.Table("notes").Create(&note{Text: "b", N: -1}).Error }},
		{"out of range (22003)", func() error { return db.Exec(`UPDATE notes SET n = n + 100000`).Error }},
		{"not a number (22P02)", func() error { return db.Exec(`UPDATE notes SET n = ?::smallint`, "x").Error }},
		{"too long inside a transaction", func() error {
			return db.Transaction(func(tx *gorm.DB) error {
				return tx.Table("notes").Where("id = ?", 1).Update("text", "жжжжжж").Error
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			var f *fault.Error
			if !errors.As(err, &f) || f.Kind != fault.Invalid {
				t.Fatalf("got %v, want an Invalid fault", err)
			}
			if !strings.Contains(f.Message, "nothing was saved") || strings.Contains(f.Message, "varying") {
				t.Errorf("message %q should speak to people, not quote the database", f.Message)
			}
		})
	}
	t.Run("a unique violation stays a duplicated key", func(t *testing.T) {
		err := db.Table("notes").Create(&note{Text: "жжжжж"}).Error
		if !database.IsUniqueViolation(err) || fault.Is(err, fault.Invalid) {
			t.Fatalf("got %v, want a unique violation", err)
		}
	})
}
