package task

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// TestTaskListsUseTheirIndexesUnderGenericPlans explains the statements of
// the task lists (a group's queue, a person's tasks, a contract's or a
// customer's tasks; the work queues by priority too) as the service sends
// them, under generic plans, on 30,000 tasks whose few open ones are the
// oldest: the shape in which a page walked along the primary key reads
// every closed task first.
func TestTaskListsUseTheirIndexesUnderGenericPlans(t *testing.T) {
	db := servicetest.PlannedDB(t, Name, migrations,
		`INSERT INTO tasks (number, kind, state, title, route_id, route_version, route_name, process_id, process_name,
		   process_group_id, process_position, contract_id, contract_number, customer_id, customer_name, assignee_id,
		   created_by, created_at, updated_at, workflow_id, sequence)
		 SELECT 'T-' || lpad(g::text, 7, '0'), 2, CASE WHEN g <= 600 THEN 1 ELSE 2 END, 'Визит', 2, 1, 'Сервис', 10 + g % 5, 'Этап',
		   1 + g % 5, 1, g % 9000 + 1, 'C-' || lpad((g % 9000 + 1)::text, 6, '0'), g % 8000 + 1, 'Клиент', g % 400,
		   1, g, g, 'task-' || g, 2
		 FROM generate_series(1, 30000) g`,
		`UPDATE tasks SET stuck = true WHERE id % 5000 = 0`,
		`UPDATE tasks SET search_lower = 'визит клиент ' || md5(id::text)`,
		`UPDATE tasks SET priority = 1 + id % 4, sla_due_at = CASE WHEN id % 3 = 0 THEN 0 ELSE id * 1000 END`,
		`INSERT INTO comments (task_id, sequence, author_id, author_name, text, text_lower, process_id, process_name, created_at)
		 SELECT g, 2, 1, 'Оператор', 'Перезвонить ' || md5(g::text), 'перезвонить ' || md5(g::text), 10, 'Этап', g
		 FROM generate_series(1, 30000) g`,
		`ANALYZE tasks`, `ANALYZE comments`)
	taken := servicetest.RecordQueries(t, db)
	st := &store{db: db}
	ctx := context.Background()
	const open = 1
	for _, tc := range []struct {
		name  string
		f     taskFilter
		index string
	}{
		{"a group's open queue", taskFilter{State: open, GroupID: 3, Limit: 51}, "tasks_state_group_id"},
		{"a group's open queue, next page", taskFilter{State: open, GroupID: 3, After: pageKey{ID: 300}, Limit: 51}, "tasks_state_group_id"},
		{"every open task", taskFilter{State: open, Limit: 51}, "tasks_state_id"},
		{"a person's tasks", taskFilter{AssigneeID: 7, Limit: 51}, "tasks_assignee_id"},
		{"a person's tasks, next page", taskFilter{AssigneeID: 7, After: pageKey{ID: 20000}, Limit: 51}, "tasks_assignee_id"},
		{"a person's open tasks", taskFilter{AssigneeID: 7, State: open, Limit: 51}, ""},
		{"a group's open queue by priority", taskFilter{State: open, GroupID: 3, ByPriority: true, Limit: 51}, "tasks_open_group_priority"},
		{"a group's open queue by priority, next page", taskFilter{State: open, GroupID: 3, ByPriority: true, After: pageKey{ID: 300, Priority: 2, SLADueAt: 300000}, Limit: 51}, "tasks_open_group_priority"},
		{"a person's open tasks by priority", taskFilter{AssigneeID: 7, State: open, ByPriority: true, Limit: 51}, "tasks_open_assignee_priority"},
		{"a contract's tasks", taskFilter{ContractID: 77, Limit: 51}, "tasks_contract_id"},
		{"a customer's tasks", taskFilter{CustomerID: 77, Limit: 51}, "tasks_customer_id"},
		{"every task, newest first", taskFilter{Limit: 51}, "tasks_pkey"},
		{"the stuck tasks", taskFilter{Stuck: true, Limit: 51}, "tasks_stuck_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql, plan := planOfOne(t, db, taken, func() error { _, err := st.list(ctx, tc.f); return err })
			if strings.Contains(plan, "Seq Scan") || tc.index != "" && !strings.Contains(plan, " "+tc.index) ||
				strings.Contains(plan, "using tasks_pkey") && tc.index != "tasks_pkey" {
				t.Fatalf("want %s, no sequential scan, no walk along the key:\n%s\n%s", tc.index, sql, plan)
			}
		})
	}
}

// TestTaskSearchUsesItsIndexesUnderGenericPlans explains the task
// search's statements as the service sends them: a word is found through
// the trigram indexes of the folded titles and names and of the comments,
// a number through the primary key, a contract's number through its index,
// a customer's tasks through theirs; none reads the whole table.
func TestTaskSearchUsesItsIndexesUnderGenericPlans(t *testing.T) {
	db := servicetest.PlannedDB(t, Name, migrations,
		`INSERT INTO tasks (number, kind, state, title, route_id, route_version, route_name, process_id, process_name,
		   process_group_id, process_position, contract_id, contract_number, customer_id, customer_name, assignee_id,
		   created_by, created_at, updated_at, workflow_id, sequence, search_lower)
		 SELECT 'T-' || lpad(g::text, 7, '0'), 2, CASE WHEN g <= 600 THEN 1 ELSE 2 END, 'Визит', 2, 1, 'Сервис', 10 + g % 5, 'Этап',
		   1 + g % 5, 1, g % 9000 + 1, 'C-' || lpad((g % 9000 + 1)::text, 6, '0'), g % 8000 + 1, 'Клиент', g % 400,
		   1, g, g, 'task-' || g, 2, 'визит ' || md5(g::text)
		 FROM generate_series(1, 30000) g`,
		`INSERT INTO comments (task_id, sequence, author_id, author_name, text, text_lower, process_id, process_name, created_at)
		 SELECT g, 2, 1, 'Оператор', 'Перезвонить ' || md5((g + 1)::text), 'перезвонить ' || md5((g + 1)::text), 10, 'Этап', g
		 FROM generate_series(1, 30000) g`,
		// what autovacuum does to a busy table: rows written since the
		// index was made move from its pending list into the index
		`SELECT gin_clean_pending_list('tasks_search_trgm')`, `SELECT gin_clean_pending_list('comments_text_trgm')`,
		`ANALYZE tasks`, `ANALYZE comments`)
	taken := servicetest.RecordQueries(t, db)
	st := &store{db: db}
	ctx := context.Background()
	const open = 1
	for _, tc := range []struct {
		name  string
		terms searchTerms
		f     taskFilter
		uses  []string
	}{
		{"a rare word", searchTerms{Text: "c4ca42"}, taskFilter{Limit: 51}, []string{"tasks_search_trgm", "comments_text_trgm", "tasks_pkey"}},
		{"a rare word among the open tasks", searchTerms{Text: "c4ca42"}, taskFilter{State: open, Limit: 51}, []string{"tasks_search_trgm", "comments_text_trgm"}},
		{"a rare word among the open tasks by priority", searchTerms{Text: "c4ca42"}, taskFilter{State: open, ByPriority: true, Limit: 51}, []string{"tasks_search_trgm", "comments_text_trgm"}},
		{"a rare word, next page", searchTerms{Text: "c4ca42"}, taskFilter{After: pageKey{ID: 20000}, Limit: 51}, []string{"tasks_search_trgm", "comments_text_trgm"}},
		{"a task number", searchTerms{TaskID: 4321}, taskFilter{Limit: 51}, []string{"tasks_pkey"}},
		{"a contract number", searchTerms{ContractNumber: "C-000077"}, taskFilter{Limit: 51}, []string{"tasks_contract_number"}},
		{"the customers of a phone", searchTerms{TaskID: 4567, CustomerIDs: []int64{77, 78}}, taskFilter{Limit: 51}, []string{"tasks_customer_id", "tasks_pkey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql, plan := planOfOne(t, db, taken, func() error { _, err := st.search(ctx, tc.terms, tc.f); return err })
			if strings.Contains(plan, "Seq Scan") {
				t.Fatalf("a sequential scan:\n%s\n%s", sql, plan)
			}
			for _, index := range tc.uses {
				if !strings.Contains(plan, " "+index) {
					t.Errorf("does not use %s:\n%s\n%s", index, sql, plan)
				}
			}
		})
	}
}

// planOfOne runs a store call that must send one statement and answers
// that statement with its generic plan.
func planOfOne(t *testing.T, db *gorm.DB, taken func() []servicetest.Query, run func() error) (sql, plan string) {
	t.Helper()
	taken()
	if err := run(); err != nil {
		t.Fatal(err)
	}
	queries := taken()
	if len(queries) != 1 {
		t.Fatalf("%d statements sent, want 1: %v", len(queries), queries)
	}
	return queries[0].SQL, servicetest.GenericPlan(t, db, queries[0])
}
