package contract

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// TestContractQueriesUseTheirIndexesUnderGenericPlans records the
// statements the store sends for the lookups that grow with the business
// (a customer's contracts, a contract by number or id) on 30,000
// contracts, and explains each as a prepared statement under a generic
// plan, as the service runs them: each must use its index, none may read
// the whole table.
func TestContractQueriesUseTheirIndexesUnderGenericPlans(t *testing.T) {
	if !servicetest.OnPostgres() {
		t.Skip("plans are PostgreSQL's: set CRM_TEST_DATABASE_URL")
	}
	common := servicetest.Common(t)
	db := servicetest.OpenDB(t, common, Name, migrations)
	for _, stmt := range []string{
		`INSERT INTO contracts (number, customer_id, tariff_id, address, status, connection_task_id, version, created_at, updated_at, activated_at)
		 SELECT 'C-' || lpad(g::text, 6, '0'), g % 10000 + 1, 1, 'Москва', 2, g, 1, 0, 0, 0 FROM generate_series(1, 30000) g`,
		`ANALYZE contracts`,
	} {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var sent []sentQuery
	if err := db.Callback().Query().After("gorm:query").Register("plan_test:record", func(tx *gorm.DB) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, sentQuery{sql: tx.Statement.SQL.String(), vars: append([]any(nil), tx.Statement.Vars...)})
	}); err != nil {
		t.Fatal(err)
	}
	st := &store{db: db, now: time.Now}
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		run   func() error
		index string
	}{
		{"a customer's contracts", func() error { _, err := st.contracts(ctx, 77, 0, 21); return err }, "contracts_customer_id_id"},
		{"a customer's contracts, next page", func() error { _, err := st.contracts(ctx, 77, 20000, 21); return err }, "contracts_customer_id_id"},
		{"every contract, newest first", func() error { _, err := st.contracts(ctx, 0, 20000, 21); return err }, "contracts_pkey"},
		{"a contract by number", func() error { _, err := st.byNumber(ctx, "C-012345"); return err }, "contracts_number_key"},
		{"a contract by id", func() error { _, err := st.contract(ctx, 12345); return err }, "contracts_pkey"},
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
			if len(queries) != 1 {
				t.Fatalf("%d statements sent, want 1", len(queries))
			}
			plan := genericPlan(t, db, queries[0])
			if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, " "+tc.index) {
				t.Fatalf("want %s and no sequential scan:\n%s\n%s", tc.index, queries[0].sql, plan)
			}
		})
	}
}

// sentQuery is a statement as the store sent it.
type sentQuery struct {
	sql  string
	vars []any
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
		switch v := v.(type) {
		case string:
			args[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case int:
			args[i] = strconv.Itoa(v)
		case int64:
			args[i] = strconv.FormatInt(v, 10)
		default:
			t.Fatalf("no literal for %T", v)
		}
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
