package notifier

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// A message for each of 150 chats (one to every customer): a look asks the
// store about at most asksPerLook chats and says to look again at once;
// the looks after it ask about the rest, each chat once, and every chat's
// message comes up soonest due first.
func TestALookAsksAboutABoundedNumberOfChats(t *testing.T) {
	db := servicetest.OpenDB(t, servicetest.Common(t), Name, migrations)
	now := time.Now()
	st := &store{db: db, now: func() time.Time { return now }}
	const chats = 150
	x := newSender(&Service{store: st}, nil)
	for i := range chats {
		d := deliveryRow{EventID: fmt.Sprintf("e%d", i), UserID: int64(i + 1), ChatID: int64(i + 1), TaskID: 1, Text: "text",
			State: statePending, NextAttemptAt: now.Add(-time.Duration(chats-i) * time.Second).UnixMicro()}
		if err := db.Create(&d).Error; err != nil {
			t.Fatal(err)
		}
		x.waiting[d.ChatID] = nil
	}
	taken := servicetest.RecordQueries(t, db)
	seen := map[int64]bool{}
	for look := 1; len(seen) < chats; look++ {
		heads, next, err := x.heads(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		if asked := len(taken()); asked > asksPerLook {
			t.Fatalf("look %d asked %d statements, want at most %d", look, asked, asksPerLook)
		}
		if len(seen)+len(heads) < chats && !next.Equal(now) {
			t.Fatalf("look %d left chats unasked and said to look again at %v, want now", look, next)
		}
		for i, h := range heads {
			if i > 0 && h.NextAttemptAt < heads[i-1].NextAttemptAt {
				t.Fatalf("look %d: heads not soonest due first", look)
			}
			seen[h.ChatID] = true
		}
		if look > chats/asksPerLook+1 {
			t.Fatalf("after %d looks %d of %d chats came up", look, len(seen), chats)
		}
	}
	if _, _, err := x.heads(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	if asked := len(taken()); asked != 0 {
		t.Fatalf("a look with every chat's message known asked %d statements, want none", asked)
	}
}
