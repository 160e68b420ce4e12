package servicetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/database"
)

// Query is a statement as a store sent it: text with $n parameters and the
// values bound to them.
type Query struct {
	SQL  string
	Vars []any
}

func (q Query) String() string { return fmt.Sprintf("%s %v", q.SQL, q.Vars) }

// RecordQueries records every reading statement db sends from now on;
// taken returns those sent since the last call and forgets them.
func RecordQueries(t testing.TB, db *gorm.DB) (taken func() []Query) {
	t.Helper()
	var mu sync.Mutex
	var sent []Query
	record := func(tx *gorm.DB) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, Query{SQL: tx.Statement.SQL.String(), Vars: append([]any(nil), tx.Statement.Vars...)})
	}
	if err := db.Callback().Query().After("gorm:query").Register("servicetest:record", record); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Row().After("gorm:row").Register("servicetest:record", record); err != nil {
		t.Fatal(err)
	}
	return func() []Query {
		mu.Lock()
		defer mu.Unlock()
		out := sent
		sent = nil
		return out
	}
}

// GenericPlan explains q on PostgreSQL as a prepared statement under a
// generic plan: the plan PostgreSQL settles on for a statement run again
// and again with bound parameters, which is how the services run theirs.
// A plan that is fine for one literal can read a whole table under it.
func GenericPlan(t testing.TB, db *gorm.DB, q Query) string {
	t.Helper()
	ctx := context.Background()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE plan_test AS " + q.SQL} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	defer conn.ExecContext(ctx, "DEALLOCATE plan_test; RESET plan_cache_mode")
	args := make([]string, len(q.Vars))
	for i, v := range q.Vars {
		args[i] = literal(t, v)
	}
	explain := "EXPLAIN EXECUTE plan_test"
	if len(args) > 0 {
		explain += "(" + strings.Join(args, ", ") + ")"
	}
	rows, err := conn.QueryContext(ctx, explain)
	if err != nil {
		t.Fatalf("%s: %v", explain, err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

func literal(t testing.TB, v any) string {
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	t.Fatalf("no literal for %T", v)
	return ""
}

// PlannedDB opens and migrates service's store on PostgreSQL, filled by
// the statements given (inserts, then ANALYZE), for a test of its plans;
// without PostgreSQL the test is skipped, plans being PostgreSQL's.
func PlannedDB(t *testing.T, service string, migrations []*database.Migration, fill ...string) *gorm.DB {
	t.Helper()
	if !OnPostgres() {
		t.Skip("plans are PostgreSQL's: set " + PostgresEnv)
	}
	db := OpenDB(t, Common(t), service, migrations)
	for _, stmt := range fill {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return db
}
