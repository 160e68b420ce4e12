package task

import (
	"context"
	"strings"
	"testing"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// TestTaskListsUseTheirIndexesUnderGenericPlans explains the statements of
// the task lists (a group's queue, a person's tasks, a contract's or a
// customer's tasks) as the service sends them, under generic plans, on
// 30,000 tasks whose few open ones are the oldest: the shape in which a
// page walked along the primary key reads every closed task first.
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
		`ANALYZE tasks`)
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
		{"a group's open queue, next page", taskFilter{State: open, GroupID: 3, Before: 300, Limit: 51}, "tasks_state_group_id"},
		{"every open task", taskFilter{State: open, Limit: 51}, "tasks_state_id"},
		{"a person's tasks", taskFilter{AssigneeID: 7, Limit: 51}, "tasks_assignee_id"},
		{"a person's tasks, next page", taskFilter{AssigneeID: 7, Before: 20000, Limit: 51}, "tasks_assignee_id"},
		{"a person's open tasks", taskFilter{AssigneeID: 7, State: open, Limit: 51}, ""},
		{"a contract's tasks", taskFilter{ContractID: 77, Limit: 51}, "tasks_contract_id"},
		{"a customer's tasks", taskFilter{CustomerID: 77, Limit: 51}, "tasks_customer_id"},
		{"every task, newest first", taskFilter{Limit: 51}, "tasks_pkey"},
		{"the stuck tasks", taskFilter{Stuck: true, Limit: 51}, "tasks_stuck_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken()
			if _, err := st.list(ctx, tc.f); err != nil {
				t.Fatal(err)
			}
			queries := taken()
			if len(queries) != 1 {
				t.Fatalf("%d statements sent, want 1: %v", len(queries), queries)
			}
			plan := servicetest.GenericPlan(t, db, queries[0])
			if strings.Contains(plan, "Seq Scan") || tc.index != "" && !strings.Contains(plan, " "+tc.index) ||
				strings.Contains(plan, "using tasks_pkey") && tc.index != "tasks_pkey" {
				t.Fatalf("want %s, no sequential scan, no walk along the key:\n%s\n%s", tc.index, queries[0].SQL, plan)
			}
		})
	}
}
