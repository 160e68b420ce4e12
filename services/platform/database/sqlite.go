package database

import (
	"errors"

	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDialect is GORM's SQLite dialect on the pure-Go driver
// (modernc.org/sqlite, registered as "sqlite"). The driver keeps each
// prepared statement compiled, so with GORM's statement cache a statement
// is parsed once per connection instead of at every run, and SQLite's
// allocator stops mapping and unmapping memory for each parse: together
// two fifths of the task service's CPU per step on the previous driver.
// The dialect's package also registers the cgo driver ("sqlite3"), which
// nothing opens: the services are built without cgo, where it is a stub.
type sqliteDialect struct{ gormsqlite.Dialector }

func openSQLiteDialect(dsn string) gorm.Dialector {
	return sqliteDialect{gormsqlite.Dialector{DriverName: "sqlite", DSN: dsn}}
}

// Translate names the driver's constraint refusals as GORM's errors; the
// dialect reads only the cgo driver's errors, which this one is not.
func (sqliteDialect) Translate(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return gorm.ErrDuplicatedKey
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return gorm.ErrForeignKeyViolated
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		return gorm.ErrCheckConstraintViolated
	}
	return err
}
