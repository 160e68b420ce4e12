package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
)

var (
	surnames = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев"}
	givens   = []string{"Александр", "Мария", "Дмитрий", "Анна", "Сергей", "Елена", "Андрей", "Ольга", "Алексей", "Наталья", "Михаил", "Татьяна"}
)

// customerName is the name of the i-th seeded customer: common names with
// a distinct tail, so a part of a name finds many and a full one few.
func customerName(i int) string {
	return fmt.Sprintf("%s %s %d", surnames[i%len(surnames)], givens[(i/len(surnames))%len(givens)], i)
}

// phoneOf is the j-th phone (0 or 1) of the i-th seeded customer: unique,
// valid Russian mobile numbers.
func phoneOf(i, j int) string { return fmt.Sprintf("+79%09d", 2*i+j) }

// seedCustomers registers n customers with two phones each through the
// customer service, from workers parallel calls.
func seedCustomers(ctx context.Context, out io.Writer, c customerv1.CustomerServiceClient, n, workers int) error {
	var done atomic.Int64
	start := time.Now()
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d := done.Load()
				fmt.Fprintf(out, "  seeded %d of %d customers (%.0f/s)\n", d, n, float64(d)/time.Since(start).Seconds())
			}
		}
	}()
	err := forEach(ctx, n, workers, func(ctx context.Context, i int) error {
		kind := customerv1.CustomerKind_CUSTOMER_KIND_PERSON
		if i%10 == 9 {
			kind = customerv1.CustomerKind_CUSTOMER_KIND_COMPANY
		}
		_, err := c.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{
			Kind: kind, Name: customerName(i), Address: fmt.Sprintf("Москва, ул. Тверская, %d", i%200+1),
			Phones: []*customerv1.Phone{{Number: phoneOf(i, 0), Label: "mobile"}, {Number: phoneOf(i, 1), Label: "home"}},
		}})
		if err != nil {
			return fmt.Errorf("customer %d: %w", i, err)
		}
		done.Add(1)
		return nil
	})
	close(stop)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  seeded %d customers with %d phones through the customer service in %s (%.0f/s)\n", n, 2*n, time.Since(start).Round(time.Second), float64(n)/time.Since(start).Seconds())
	return nil
}

// seedClosedTasks bulk-loads n closed tasks as rows of the task service's
// read model, without workflows (a closed task's workflow has ended): the
// history a queue of a busy operator carries.
func seedClosedTasks(ctx context.Context, db *pgx.Conn, n, customers int, contractID int64) error {
	now := time.Now().UTC().UnixMicro()
	rows := make([][]any, 0, 10000)
	var base int64
	if err := db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM task.tasks`).Scan(&base); err != nil {
		return err
	}
	flush := func() error {
		_, err := db.CopyFrom(ctx, pgx.Identifier{"task", "tasks"}, []string{
			"id", "number", "kind", "state", "title", "description", "route_id", "route_version", "route_name",
			"process_id", "process_name", "process_group_id", "process_position", "contract_id", "contract_number",
			"customer_id", "customer_name", "assignee_id", "assignee_name", "sla_due_at", "sla_breached", "created_by",
			"created_at", "updated_at", "closed_at", "close_reason", "workflow_id", "sequence",
		}, pgx.CopyFromRows(rows))
		rows = rows[:0]
		return err
	}
	for k := range n {
		id := base + 1_000_000 + int64(k)
		cust := rand.IntN(customers) + 1
		at := now - int64(k)*1e6
		rows = append(rows, []any{
			id, fmt.Sprintf("T-%07d", id), int32(2), int32(2), "Repair", "", int64(2), int32(1), "Repair",
			int64(8), "Confirmation", int64(5), int32(3), contractID, "C-history",
			int64(cust), customerName(cust - 1), int64(0), "", int64(0), false, int64(1),
			at, at, at, "ROUTE_COMPLETED", fmt.Sprintf("task-%d", id), int64(4),
		})
		if len(rows) == cap(rows) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(rows) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if _, err := db.Exec(ctx, `SELECT setval(pg_get_serial_sequence('task.tasks', 'id'), (SELECT max(id) FROM task.tasks))`); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `ANALYZE task.tasks`)
	return err
}
