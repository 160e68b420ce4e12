package contract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// TestContractQueriesUseTheirIndexesUnderGenericPlans records the
// statements the store sends for the lookups that grow with the business
// (a customer's contracts, a contract by number or id) on 30,000
// contracts, and explains each as a prepared statement under a generic
// plan, as the service runs them: each must use its index, none may read
// the whole table.
func TestContractQueriesUseTheirIndexesUnderGenericPlans(t *testing.T) {
	db := servicetest.PlannedDB(t, Name, migrations,
		`INSERT INTO contracts (number, customer_id, tariff_id, address, status, connection_task_id, version, created_at, updated_at, activated_at)
		 SELECT 'C-' || lpad(g::text, 6, '0'), g % 10000 + 1, 1, 'Москва', 2, g, 1, 0, 0, 0 FROM generate_series(1, 30000) g`,
		`ANALYZE contracts`)
	taken := servicetest.RecordQueries(t, db)
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
			taken()
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			queries := taken()
			if len(queries) != 1 {
				t.Fatalf("%d statements sent, want 1", len(queries))
			}
			plan := servicetest.GenericPlan(t, db, queries[0])
			if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, " "+tc.index) {
				t.Fatalf("want %s and no sequential scan:\n%s\n%s", tc.index, queries[0].SQL, plan)
			}
		})
	}
}
