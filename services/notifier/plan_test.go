package notifier

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// TestTheSenderAsksOnlyForTheChatsItMaySendTo explains the sender's looks
// at the queue under a backlog of 30,000 due messages for four chats:
// each look asks one chat for its first message due and must read it
// from the chat's part of the index, with no sort and no scan of the
// backlog, so a look costs what the recipients cost.
func TestTheSenderAsksOnlyForTheChatsItMaySendTo(t *testing.T) {
	db := servicetest.PlannedDB(t, Name, migrations,
		`INSERT INTO deliveries (event_id, user_id, chat_id, task_id, text, state, next_attempt_at, created_at, updated_at)
		 SELECT 'e' || g, g % 4 + 1, g % 4 + 1, g, 'text', 'pending', g, g, g FROM generate_series(1, 30000) g`,
		`INSERT INTO deliveries (event_id, user_id, chat_id, task_id, text, state, next_attempt_at, created_at, updated_at)
		 SELECT 'sent' || g, 1, 1, g, 'text', 'sent', g, g, g FROM generate_series(1, 30000) g`,
		`INSERT INTO deliveries (event_id, user_id, chat_id, task_id, text, state, next_attempt_at, created_at, updated_at)
		 SELECT 'retry' || g, 5, 5, g, 'text', 'pending', 2000000 + g, g, g FROM generate_series(1, 10) g`,
		`ANALYZE deliveries`)
	taken := servicetest.RecordQueries(t, db)
	st := &store{db: db, now: time.Now}
	first, err := st.firstDue(context.Background(), 4)
	if err != nil || first == nil || first.ChatID != 4 || first.NextAttemptAt != 3 {
		t.Fatalf("chat 4's first due: %+v, %v; want the one due at 3", first, err)
	}
	retry, err := st.firstDue(context.Background(), 5)
	if err != nil || retry == nil || retry.NextAttemptAt != 2_000_001 {
		t.Fatalf("chat 5's first due: %+v, %v; want its first retry", retry, err)
	}
	if none, err := st.firstDue(context.Background(), 6); err != nil || none != nil {
		t.Fatalf("a chat with nothing pending: %+v, %v", none, err)
	}
	queries := taken()
	if len(queries) != 3 {
		t.Fatalf("%d statements sent, want 3", len(queries))
	}
	for _, q := range queries {
		plan := servicetest.GenericPlan(t, db, q)
		if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") || !strings.Contains(plan, " deliveries_chat_due") ||
			!strings.Contains(plan, "chat_id") || !strings.Contains(plan, "Index Cond") {
			t.Fatalf("want deliveries_chat_due read from the chat's part in its order, no sort and no sequential scan:\n%s\n%s", q.SQL, plan)
		}
	}
	chats, err := st.waitingChats(context.Background())
	if slices.Sort(chats); err != nil || !slices.Equal(chats, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("chats waiting: %v, %v", chats, err)
	}
}
