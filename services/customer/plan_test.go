package customer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// sentQuery is a statement as the store sent it: text with $n parameters
// and the values bound to them.
type sentQuery struct {
	sql  string
	vars []any
}

// TestSearchQueriesUseTheirIndexesUnderGenericPlans runs the store's
// reading queries on a seeded PostgreSQL database, records the statements
// exactly as they were sent, and explains each one as a prepared statement
// under a generic plan: the plan PostgreSQL settles on for a statement run
// again and again with bound parameters, which is how the service runs
// them. A plan that reads a whole table is the failure this guards
// against (for example a prefix as LIKE $1, or a name part walked along
// the primary key).
func TestSearchQueriesUseTheirIndexesUnderGenericPlans(t *testing.T) {
	if !servicetest.OnPostgres() {
		t.Skip("plans are PostgreSQL's: set CRM_TEST_DATABASE_URL")
	}
	common := servicetest.Common(t)
	db := servicetest.OpenDB(t, common, Name, migrations)
	pop := population{Customers: 30000}
	pop.seed(t, common.DatabaseURL, false)

	var mu sync.Mutex
	var sent []sentQuery
	record := func(tx *gorm.DB) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, sentQuery{sql: tx.Statement.SQL.String(), vars: append([]any(nil), tx.Statement.Vars...)})
	}
	if err := db.Callback().Query().After("gorm:query").Register("plan_test:record", record); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Row().After("gorm:row").Register("plan_test:record", record); err != nil {
		t.Fatal(err)
	}
	st := &store{db: db, now: time.Now}
	ctx := context.Background()
	mobile := pop.Mobile(1234)

	for _, tc := range []struct {
		name string
		run  func() error
		// uses lists an index each statement's plan must use, in the order
		// the statements are sent.
		uses []string
	}{
		{"customer by id with its phones", func() error { _, err := st.get(ctx, 4321); return err },
			[]string{"customers_pkey phones_customer_id"}},
		{"customer by exact phone", func() error { _, _, err := st.byNumberPrefix(ctx, mobile, "", 20); return err },
			[]string{"phones_number_key customers_pkey phones_customer_id"}},
		{"phone prefix as a range", func() error { _, _, err := st.byNumberPrefix(ctx, "+7912", "", 20); return err },
			[]string{"phones_number_key"}},
		{"phone prefix, next page", func() error { _, _, err := st.byNumberPrefix(ctx, "+7912", "+79120000000", 20); return err },
			[]string{"phones_number_key"}},
		{"common name part: the newest customers", func() error { _, err := st.byName(ctx, "иванов", 0, 21); return err },
			[]string{"customers_pkey"}},
		{"rare name part: then the trigram index", func() error { _, err := st.byName(ctx, "нет такого имени", 0, 21); return err },
			[]string{"customers_pkey", "customers_name_trgm"}},
		{"rare name part, next page", func() error { _, err := st.byName(ctx, "нет такого имени", 20000, 21); return err },
			[]string{"customers_pkey", "customers_name_trgm"}},
		{"a name part too short for trigrams: the newest customers, as far as it takes", func() error { _, err := st.byName(ctx, "ъь", 0, 21); return err },
			[]string{"customers_pkey"}},
		{"everyone, newest first", func() error { _, err := st.byName(ctx, "", 0, 21); return err },
			[]string{"customers_pkey"}},
		{"customers of a contract number", func() error { _, err := st.byIDs(ctx, []int64{10, 20}); return err },
			[]string{"customers_pkey phones_customer_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			sent = nil
			mu.Unlock()
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			queries := sent
			mu.Unlock()
			if len(queries) != len(tc.uses) {
				t.Fatalf("%d statements sent, want %d: %v", len(queries), len(tc.uses), queries)
			}
			for i, q := range queries {
				plan := genericPlan(t, db, q)
				for _, table := range []string{"customers", "phones"} {
					if strings.Contains(plan, "Seq Scan on "+table) {
						t.Errorf("statement %d reads all of %s:\n%s\n%s", i+1, table, q.sql, plan)
					}
				}
				for _, index := range strings.Fields(tc.uses[i]) {
					if !strings.Contains(plan, " "+index) {
						t.Errorf("statement %d does not use %s:\n%s\n%s", i+1, index, q.sql, plan)
					}
				}
			}
		})
	}
}

// genericPlan explains q as a prepared statement under a generic plan.
func genericPlan(t *testing.T, db *gorm.DB, q sentQuery) string {
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
	for _, stmt := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE plan_test AS " + q.sql} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	defer conn.ExecContext(ctx, "DEALLOCATE plan_test; RESET plan_cache_mode")
	args := make([]string, len(q.vars))
	for i, v := range q.vars {
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

func literal(t *testing.T, v any) string {
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
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

func (q sentQuery) String() string { return fmt.Sprintf("%s %v", q.sql, q.vars) }
