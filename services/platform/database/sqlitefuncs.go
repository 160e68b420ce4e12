package database

import (
	"database/sql/driver"
	"fmt"
	"slices"

	gosqlite "modernc.org/sqlite"
)

// SQLite gets reverse(), which PostgreSQL has built in, so that a query
// can order phone numbers by their last digits on either database.
func init() {
	gosqlite.MustRegisterDeterministicScalarFunction("reverse", 1, func(_ *gosqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return Reverse(v), nil
		case []byte:
			return Reverse(string(v)), nil
		}
		return nil, fmt.Errorf("reverse takes text, not %T", args[0])
	})
}

// Reverse is s with its characters in the opposite order, as reverse()
// gives it on either database: a query's bounds for reverse(column) are
// made with it.
func Reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}
