package customer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

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

	taken := servicetest.RecordQueries(t, db)
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
		{"numbers starting or ending with the last four digits, one statement", func() error {
			_, _, err := st.byNumberStartOrEnd(ctx, "+7"+mobile[len(mobile)-4:], mobile[len(mobile)-4:], "", 20)
			return err
		},
			[]string{"phones_number_key phones_number_reversed customers_pkey phones_customer_id"}},
		{"numbers ending with the last four digits", func() error {
			_, _, err := st.byNumberSuffix(ctx, mobile[len(mobile)-4:], "+7"+mobile[len(mobile)-4:], "", 20)
			return err
		},
			[]string{"phones_number_reversed customers_pkey phones_customer_id"}},
		{"numbers ending with the digits, next page", func() error { _, _, err := st.byNumberSuffix(ctx, "4567", "+74567", "+79120004567", 20); return err },
			[]string{"phones_number_reversed"}},
		{"the last four digits of a number", func() error {
			_, _, err := st.byNumberPart(ctx, mobile[len(mobile)-4:], "+7"+mobile[len(mobile)-4:], "", 20)
			return err
		},
			[]string{"phones_number_trgm customers_pkey phones_customer_id"}},
		{"a part of a number, next page", func() error { _, _, err := st.byNumberPart(ctx, "34567", "+734567", "+79120000000", 20); return err },
			[]string{"phones_number_trgm"}},
		{"a name folded from ё", func() error { _, err := st.byName(ctx, "Пётр", 0, 21); return err },
			[]string{"customers_pkey"}},
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
			taken()
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			queries := taken()
			if len(queries) != len(tc.uses) {
				t.Fatalf("%d statements sent, want %d: %v", len(queries), len(tc.uses), queries)
			}
			for i, q := range queries {
				plan := servicetest.GenericPlan(t, db, q)
				for _, table := range []string{"customers", "phones"} {
					if strings.Contains(plan, "Seq Scan on "+table) {
						t.Errorf("statement %d reads all of %s:\n%s\n%s", i+1, table, q.SQL, plan)
					}
				}
				for _, index := range strings.Fields(tc.uses[i]) {
					if !strings.Contains(plan, " "+index) {
						t.Errorf("statement %d does not use %s:\n%s\n%s", i+1, index, q.SQL, plan)
					}
				}
			}
		})
	}
}

// The plans the test above explains are the ones the service runs: its
// connections plan every prepared statement generically.
func TestTheServiceRunsItsStatementsUnderGenericPlans(t *testing.T) {
	if !servicetest.OnPostgres() {
		t.Skip("plans are PostgreSQL's: set CRM_TEST_DATABASE_URL")
	}
	db, err := OpenDB(context.Background(), servicetest.Common(t), servicetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close(db) })
	var mode string
	if err := db.Raw("SHOW plan_cache_mode").Scan(&mode).Error; err != nil {
		t.Fatal(err)
	}
	if mode != "force_generic_plan" {
		t.Fatalf("plan_cache_mode is %q; want force_generic_plan", mode)
	}
}
