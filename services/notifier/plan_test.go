package notifier

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// TestTheSenderReadsItsQueueOnlyUntilItsBatch explains the sender's look
// at the queue under a backlog of 30,000 due messages for three chats that
// must wait (rate-limited) and a few for a fourth: the statement must walk
// the due index in its order and stop at the batch, with no sort of every
// due message, so a look costs what the batch costs, not the backlog.
func TestTheSenderReadsItsQueueOnlyUntilItsBatch(t *testing.T) {
	db := servicetest.PlannedDB(t, Name, migrations,
		`INSERT INTO deliveries (event_id, user_id, chat_id, task_id, text, state, next_attempt_at, created_at, updated_at)
		 SELECT 'e' || g, g % 4 + 1, g % 4 + 1, g, 'text', 'pending', g, g, g FROM generate_series(1, 30000) g`,
		`INSERT INTO deliveries (event_id, user_id, chat_id, task_id, text, state, next_attempt_at, created_at, updated_at)
		 SELECT 'sent' || g, 1, 1, g, 'text', 'sent', g, g, g FROM generate_series(1, 30000) g`,
		`INSERT INTO deliveries (event_id, user_id, chat_id, task_id, text, state, next_attempt_at, created_at, updated_at)
		 SELECT 'retry' || g, 4, 4, g, 'text', 'pending', 2000000 + g, g, g FROM generate_series(1, 10) g`,
		`ANALYZE deliveries`)
	taken := servicetest.RecordQueries(t, db)
	st := &store{db: db, now: time.Now}
	rows, err := st.due(context.Background(), time.UnixMicro(1_000_000), []int64{1, 2, 3}, 32)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 32 || rows[0].ChatID != 4 || rows[0].NextAttemptAt != 3 {
		t.Fatalf("got %d messages, the first %+v; want 32 for chat 4, soonest due first", len(rows), rows[0])
	}
	// When nothing outside the waiting chats is due, the sender asks when
	// the next one will be: read from now on, past none of the backlog.
	next, ok, err := st.nextDue(context.Background(), time.UnixMicro(1_000_000), []int64{1, 2, 3})
	if err != nil || !ok || next.UnixMicro() != 2_000_001 {
		t.Fatalf("next due %v, %v, %v; want the first retry's time", next.UnixMicro(), ok, err)
	}
	queries := taken()
	if len(queries) != 2 {
		t.Fatalf("%d statements sent, want 2", len(queries))
	}
	for _, q := range queries {
		plan := servicetest.GenericPlan(t, db, q)
		if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") || !strings.Contains(plan, " deliveries_due_order") ||
			!strings.Contains(plan, "next_attempt_at") || !strings.Contains(plan, "Index Cond") {
			t.Fatalf("want deliveries_due_order read in its order from a bound on next_attempt_at, no sort and no sequential scan:\n%s\n%s", q.SQL, plan)
		}
	}
}
