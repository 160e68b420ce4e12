package database

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/fault"
)

// refusals are the PostgreSQL errors the data itself causes (classes 22
// and 23 of SQLSTATE), said for people. The request was wrong, not the
// service: they are 400s, never retried, never a 500. Unique violations
// are not here: GORM turns them into ErrDuplicatedKey, and each store says
// which value is taken.
var refusals = map[string]string{
	"22001": "a value is longer than the database allows",
	"22021": "a text holds a character the database cannot store (such as NUL) or is not valid UTF-8",
	"22P02": "a value is not in the form the database expects",
	"22P05": "a text holds a character the database cannot store",
	"22003": "a number is out of range",
	"22008": "a date or time is out of range",
	"22007": "a date or time is not valid",
	"22012": "a value leads to a division by zero",
	"23502": "a required value is missing",
	"23514": "a value breaks a rule of the database",
}

// Refusal turns an error the database answered because of the data into an
// Invalid fault; any other error comes back unchanged.
func Refusal(err error) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return err
	}
	msg, ok := refusals[pg.Code]
	if !ok {
		return err
	}
	return fault.New(fault.Invalid, "%s; nothing was saved", msg)
}

// translateRefusals makes every statement of every store answer Refusal's
// errors, so no write path has to remember it.
func translateRefusals(db *gorm.DB) error {
	fix := func(tx *gorm.DB) {
		if tx.Error != nil {
			tx.Error = Refusal(tx.Error)
		}
	}
	cb := db.Callback()
	for _, reg := range []func() error{
		func() error { return cb.Create().After("*").Register("crm:refusals", fix) },
		func() error { return cb.Update().After("*").Register("crm:refusals", fix) },
		func() error { return cb.Delete().After("*").Register("crm:refusals", fix) },
		func() error { return cb.Query().After("*").Register("crm:refusals", fix) },
		func() error { return cb.Raw().After("*").Register("crm:refusals", fix) },
		func() error { return cb.Row().After("*").Register("crm:refusals", fix) },
	} {
		if err := reg(); err != nil {
			return err
		}
	}
	return nil
}

// IsConstraint tells whether err is the named constraint refusing a
// write: on PostgreSQL by the constraint's name, on SQLite by the message
// a trigger raises with that name.
func IsConstraint(err error, name string) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.ConstraintName == name
	}
	return strings.Contains(err.Error(), name)
}
