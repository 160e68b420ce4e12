package database_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
)

func openSQLite(t *testing.T) *gorm.DB {
	t.Helper()
	migrations := []*database.Migration{{ID: "0001", Migrate: func(tx *gorm.DB) error {
		return tx.Exec(`CREATE TABLE owners (id integer PRIMARY KEY);
			CREATE TABLE notes (id integer PRIMARY KEY, text text NOT NULL UNIQUE, n integer NOT NULL DEFAULT 0 CHECK (n >= 0),
				owner_id integer REFERENCES owners (id))`).Error
	}}}
	db, err := database.Open(context.Background(), config.Common{DataDir: t.TempDir()}, "sqlite", slog.New(slog.NewTextHandler(io.Discard, nil)), migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = database.Close(db) })
	return db
}

// The SQLite driver's refusals reach the stores as GORM's errors, as
// PostgreSQL's do: a store tells a duplicate from an outage by them.
func TestSQLiteConstraintRefusalsAreGORMErrors(t *testing.T) {
	db := openSQLite(t)
	if err := db.Exec(`INSERT INTO owners (id) VALUES (1)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO notes (text, owner_id) VALUES ('a', 1)`).Error; err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sql string
		want      error
	}{
		{"a duplicate", `INSERT INTO notes (text) VALUES ('a')`, gorm.ErrDuplicatedKey},
		{"a duplicate key", `INSERT INTO notes (id, text) VALUES (1, 'b')`, gorm.ErrDuplicatedKey},
		{"a missing owner", `INSERT INTO notes (text, owner_id) VALUES ('c', 2)`, gorm.ErrForeignKeyViolated},
		{"a failed check", `INSERT INTO notes (text, n) VALUES ('d', -1)`, gorm.ErrCheckConstraintViolated},
	} {
		err := db.Exec(tc.sql).Error
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if !database.IsUniqueViolation(db.Exec(`INSERT INTO notes (text) VALUES ('a')`).Error) {
		t.Error("IsUniqueViolation does not see a duplicate on SQLite")
	}
}

// Statements are kept compiled per connection; one run again after the
// schema changed answers for the new schema.
func TestSQLiteKeptStatementsFollowTheSchema(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	if err := db.WithContext(ctx).Exec(`INSERT INTO notes (text) VALUES ('a')`).Error; err != nil {
		t.Fatal(err)
	}
	read := func() map[string]any {
		var row map[string]any
		if err := db.WithContext(ctx).Raw(`SELECT * FROM notes WHERE text = ?`, "a").Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		return row
	}
	if _, ok := read()["colour"]; ok {
		t.Fatal("a column before it was added")
	}
	if err := db.WithContext(ctx).Exec(`ALTER TABLE notes ADD COLUMN colour text NOT NULL DEFAULT 'red'`).Error; err != nil {
		t.Fatal(err)
	}
	if got := read()["colour"]; got != "red" {
		t.Fatalf("the same statement after the column was added: colour = %v, want red", got)
	}
}
