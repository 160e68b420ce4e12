package notifier

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/telecomcrm/crm/services/platform/micros"
)

// The notifier's delivery queue is its own tables rather than Temporal:
// a message per member and chat is paced by Telegram's per-chat and global
// rate limits, retried across long outages, and read by the console's
// delivery log and the queue metrics — a workflow or activity per message
// would put each Telegram call into a history for no more safety than a
// row with its state gives.

// Delivery states. A delivery is pending until the sender claims it; it is
// sending while Telegram is being asked; then sent, or back to pending to
// retry, or one of the final states.
const (
	statePending     = "pending"
	stateSending     = "sending"
	stateSent        = "sent"
	stateSkipped     = "skipped"
	stateUnreachable = "unreachable"
	stateFailed      = "failed"
)

// Reasons recorded on deliveries that were not sent.
const (
	reasonNoChat  = "no linked chat"
	reasonNoBot   = "no bot configured"
	reasonBlocked = "the user blocked the bot"
)

// eventRow is one task notice in the outbox. Times are Unix microseconds.
type eventRow struct {
	ID            int64
	EventID       string
	TaskID        int64
	Notice        []byte
	CreatedAt     int64 `gorm:"autoCreateTime:false"`
	ExpandedAt    int64
	NextAttemptAt int64
	Attempts      int32
	LastError     string
}

func (eventRow) TableName() string { return "events" }

// deliveryRow is one message to one recipient of one event.
type deliveryRow struct {
	ID            int64
	EventID       string
	UserID        int64
	ChatID        int64
	TaskID        int64
	TaskNumber    string
	ProcessID     int64
	Language      string
	Text          string
	Markup        string
	State         string
	NextAttemptAt int64
	Attempts      int32
	LastAttemptAt int64
	Uncertain     bool
	LostAnswers   int32
	MessageID     int64
	Reason        string
	CreatedAt     int64 `gorm:"autoCreateTime:false"`
	UpdatedAt     int64 `gorm:"autoUpdateTime:false"`
}

func (deliveryRow) TableName() string { return "deliveries" }

// promptRow is a question the bot asked in a chat; a reply answers it.
type promptRow struct {
	ChatID          int64 `gorm:"primaryKey;autoIncrement:false"`
	MessageID       int64 `gorm:"primaryKey;autoIncrement:false"`
	Kind            string
	TaskID          int64
	TaskNumber      string
	ProcessID       int64
	SourceMessageID int64
	CreatedAt       int64 `gorm:"autoCreateTime:false"`
}

func (promptRow) TableName() string { return "prompts" }

const promptReturn = "return"

// unreachableChatRow is a chat whose user blocked the bot.
type unreachableChatRow struct {
	ChatID int64 `gorm:"primaryKey;autoIncrement:false"`
	Since  int64
}

func (unreachableChatRow) TableName() string { return "unreachable_chats" }

// store is the notifier's access to its own tables.
type store struct {
	db  *gorm.DB
	now func() time.Time
}

func (s *store) micros() int64 { return micros.Of(s.now()) }

// enqueue stores an event unless one with its id is there already: the one
// insert on the task service's hot path. It tells whether the event is new.
func (s *store) enqueue(ctx context.Context, e *eventRow) (bool, error) {
	e.CreatedAt = s.micros()
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "event_id"}}, DoNothing: true}).Create(e)
	return res.RowsAffected == 1, res.Error
}

// pendingEvents returns events waiting for their recipients, oldest first.
func (s *store) pendingEvents(ctx context.Context, limit int) ([]eventRow, error) {
	var rows []eventRow
	err := s.db.WithContext(ctx).Where("expanded_at = 0 AND next_attempt_at <= ?", s.micros()).
		Order("id").Limit(limit).Find(&rows).Error
	return rows, err
}

// nextEventAttempt is when the earliest waiting event is due; ok is false
// when none waits.
func (s *store) nextEventAttempt(ctx context.Context) (time.Time, bool, error) {
	var next []int64
	err := s.db.WithContext(ctx).Model(&eventRow{}).Where("expanded_at = 0").
		Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &next).Error
	if err != nil || len(next) == 0 {
		return time.Time{}, false, err
	}
	return time.UnixMicro(next[0]), true, nil
}

// expand writes an event's deliveries and marks it expanded, in one
// transaction; a delivery already there (same event and user) is kept.
func (s *store) expand(ctx context.Context, eventRowID int64, ds []deliveryRow) error {
	now := s.micros()
	for i := range ds {
		ds[i].CreatedAt, ds[i].UpdatedAt = now, now
		if ds[i].NextAttemptAt == 0 {
			ds[i].NextAttemptAt = now
		}
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(ds) > 0 {
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "event_id"}, {Name: "user_id"}},
				DoNothing: true,
			}).CreateInBatches(ds, 100).Error
			if err != nil {
				return err
			}
		}
		return tx.Model(&eventRow{}).Where("id = ?", eventRowID).
			Updates(map[string]any{"expanded_at": now, "last_error": ""}).Error
	})
}

// deferEvent puts an event off after a failed expansion.
func (s *store) deferEvent(ctx context.Context, id int64, at time.Time, reason string) error {
	return s.db.WithContext(ctx).Model(&eventRow{}).Where("id = ?", id).Updates(map[string]any{
		"attempts":        gorm.Expr("attempts + 1"),
		"next_attempt_at": at.UTC().UnixMicro(),
		"last_error":      clip(reason, 500),
	}).Error
}

// recoverSending returns deliveries a previous run left in sending: their
// answer was lost with that run, so they are sent again, and counted.
func (s *store) recoverSending(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Model(&deliveryRow{}).Where("state = ?", stateSending).Updates(map[string]any{
		"state":           statePending,
		"uncertain":       true,
		"lost_answers":    gorm.Expr("lost_answers + 1"),
		"next_attempt_at": s.micros(),
		"updated_at":      s.micros(),
	})
	return res.RowsAffected, res.Error
}

// waitingChats lists the chats with messages pending: what the sender
// starts from (afterwards it learns of new ones as they are queued).
func (s *store) waitingChats(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&deliveryRow{}).Where("state = ?", statePending).Distinct("chat_id").Pluck("chat_id", &ids).Error
	return ids, err
}

// firstDue is a chat's pending message due soonest (nil: none pending). The
// sender asks for each chat it may send to now, so a look costs what the
// recipients cost, however many messages wait for chats that must wait.
func (s *store) firstDue(ctx context.Context, chatID int64) (*deliveryRow, error) {
	var rows []deliveryRow
	err := s.db.WithContext(ctx).Where("state = ? AND chat_id = ?", statePending, chatID).Order("next_attempt_at, id").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// claim marks a pending delivery as being sent (the mark a restart finds
// if the answer is lost with the process). It tells whether this sender
// got it; a delivery to a chat whose user blocked the bot is ended as
// unreachable instead.
func (s *store) claim(ctx context.Context, d *deliveryRow) (bool, error) {
	now := s.micros()
	claimed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var blocked int64
		if err := tx.Model(&unreachableChatRow{}).Where("chat_id = ?", d.ChatID).Count(&blocked).Error; err != nil {
			return err
		}
		if blocked > 0 {
			return tx.Model(&deliveryRow{}).Where("id = ? AND state = ?", d.ID, statePending).
				Updates(map[string]any{"state": stateUnreachable, "reason": reasonBlocked, "updated_at": now}).Error
		}
		res := tx.Model(&deliveryRow{}).Where("id = ? AND state = ?", d.ID, statePending).Updates(map[string]any{
			"state":           stateSending,
			"attempts":        gorm.Expr("attempts + 1"),
			"last_attempt_at": now,
			"updated_at":      now,
		})
		claimed = res.RowsAffected == 1
		return res.Error
	})
	if err != nil || !claimed {
		return false, err
	}
	d.State, d.Attempts, d.LastAttemptAt = stateSending, d.Attempts+1, now
	return true, nil
}

// markSent records Telegram's acceptance. A delivery sent after a lost
// answer may be a duplicate; its lost answers were counted already.
func (s *store) markSent(ctx context.Context, id, messageID int64) error {
	return s.db.WithContext(ctx).Model(&deliveryRow{}).Where("id = ? AND state = ?", id, stateSending).Updates(map[string]any{
		"state":      stateSent,
		"message_id": messageID,
		"uncertain":  false,
		"reason":     "",
		"updated_at": s.micros(),
	}).Error
}

// markRetry puts a delivery back in the queue for later. lost tells that
// Telegram may have received it (the answer was lost).
func (s *store) markRetry(ctx context.Context, id int64, at time.Time, lost bool, reason string) error {
	cols := map[string]any{
		"state":           statePending,
		"next_attempt_at": at.UTC().UnixMicro(),
		"reason":          clip(reason, 500),
		"updated_at":      s.micros(),
	}
	if lost {
		cols["uncertain"] = true
		cols["lost_answers"] = gorm.Expr("lost_answers + 1")
	}
	return s.db.WithContext(ctx).Model(&deliveryRow{}).Where("id = ? AND state = ?", id, stateSending).Updates(cols).Error
}

// markFinal ends a delivery that will not be sent (failed for good).
func (s *store) markFinal(ctx context.Context, id int64, state, reason string) error {
	return s.db.WithContext(ctx).Model(&deliveryRow{}).Where("id = ? AND state = ?", id, stateSending).Updates(map[string]any{
		"state":      state,
		"reason":     clip(reason, 500),
		"updated_at": s.micros(),
	}).Error
}

// markChatUnreachable ends the delivery being sent and every other one
// waiting for the same chat, and keeps the chat from being sent to: the
// user blocked the bot.
func (s *store) markChatUnreachable(ctx context.Context, id, chatID int64, reason string) error {
	now := s.micros()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&unreachableChatRow{ChatID: chatID, Since: now}).Error; err != nil {
			return err
		}
		err := tx.Model(&deliveryRow{}).Where("id = ? AND state = ?", id, stateSending).
			Updates(map[string]any{"state": stateUnreachable, "reason": clip(reason, 500), "updated_at": now}).Error
		if err != nil {
			return err
		}
		return tx.Model(&deliveryRow{}).Where("chat_id = ? AND state = ?", chatID, statePending).
			Updates(map[string]any{"state": stateUnreachable, "reason": clip(reason, 500), "updated_at": now}).Error
	})
}

// chatLinked forgets that a chat was unreachable: its user linked it again
// (and so unblocked the bot).
func (s *store) chatLinked(ctx context.Context, chatID int64) error {
	return s.db.WithContext(ctx).Where("chat_id = ?", chatID).Delete(&unreachableChatRow{}).Error
}

// skipAll records every pending delivery as skipped (no bot to send with).
func (s *store) skipAll(ctx context.Context, reason string) (int64, error) {
	res := s.db.WithContext(ctx).Model(&deliveryRow{}).Where("state = ?", statePending).
		Updates(map[string]any{"state": stateSkipped, "reason": reason, "updated_at": s.micros()})
	return res.RowsAffected, res.Error
}

// byMessage finds the delivery that became a chat's message (a reply to a
// notification names it).
func (s *store) byMessage(ctx context.Context, chatID, messageID int64) (*deliveryRow, error) {
	var rows []deliveryRow
	err := s.db.WithContext(ctx).Where("chat_id = ? AND message_id = ?", chatID, messageID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

func (s *store) savePrompt(ctx context.Context, p *promptRow) error {
	p.CreatedAt = s.micros()
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(p).Error
}

func (s *store) prompt(ctx context.Context, chatID, messageID int64) (*promptRow, error) {
	var p promptRow
	err := s.db.WithContext(ctx).Where("chat_id = ? AND message_id = ?", chatID, messageID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &p, err
}

func (s *store) deletePrompt(ctx context.Context, chatID, messageID int64) error {
	return s.db.WithContext(ctx).Where("chat_id = ? AND message_id = ?", chatID, messageID).Delete(&promptRow{}).Error
}

// purgePrompts removes questions older than the cutoff.
func (s *store) purgePrompts(ctx context.Context, before time.Time) error {
	return s.db.WithContext(ctx).Where("created_at < ?", before.UTC().UnixMicro()).Delete(&promptRow{}).Error
}

// Stats is the delivery queue at a glance, read from the tables.
type Stats struct {
	// PendingEvents wait to be turned into messages.
	PendingEvents int64
	// PendingMessages wait to be sent, retrying ones included.
	PendingMessages int64
	Sent            int64
	// Skipped: no linked chat, or no bot configured.
	Skipped int64
	// Unreachable: the user blocked the bot.
	Unreachable int64
	// Failed: Telegram refused the message for good.
	Failed int64
	// Retries counts attempts after the first, over all messages.
	Retries int64
	// PossibleDuplicates counts sends after a lost answer that Telegram
	// then accepted: each may have shown the message twice.
	PossibleDuplicates int64
	// Customers' SMS: waiting, taken by the provider, refused for good,
	// and taken after an answer was lost (each may have arrived twice).
	SMSPending, SMSSent, SMSFailed, SMSPossibleDuplicates int64
}

// QueueDepth is what waits: events and messages.
func (st Stats) QueueDepth() int64 { return st.PendingEvents + st.PendingMessages }

// deliveryTotalRow holds the counts of purged deliveries per state.
type deliveryTotalRow struct {
	State   string `gorm:"primaryKey"`
	N       int64
	Retries int64
	Lost    int64
}

func (deliveryTotalRow) TableName() string { return "delivery_totals" }

// deliveryCounts sums deliveries per state.
const deliveryCounts = "state, COUNT(*) AS n, COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS retries, COALESCE(SUM(lost_answers), 0) AS lost"

func (s *store) stats(ctx context.Context) (Stats, error) {
	var st Stats
	if err := s.db.WithContext(ctx).Model(&eventRow{}).Where("expanded_at = 0").Count(&st.PendingEvents).Error; err != nil {
		return st, err
	}
	var rows, purged []deliveryTotalRow
	if err := s.db.WithContext(ctx).Model(&deliveryRow{}).Select(deliveryCounts).Group("state").Scan(&rows).Error; err != nil {
		return st, err
	}
	if err := s.db.WithContext(ctx).Find(&purged).Error; err != nil {
		return st, err
	}
	var sms []struct {
		State     string
		Uncertain bool
		N         int64
	}
	if err := s.db.WithContext(ctx).Model(&customerMessageRow{}).Select("state, uncertain, COUNT(*) AS n").
		Where("channel = ?", channelSMS).Group("state, uncertain").Scan(&sms).Error; err != nil {
		return st, err
	}
	for _, r := range sms {
		switch r.State {
		case statePending, stateSending:
			st.SMSPending += r.N
		case stateSent, stateDelivered, stateUndelivered:
			st.SMSSent += r.N
			if r.Uncertain {
				st.SMSPossibleDuplicates += r.N
			}
		case stateFailed:
			st.SMSFailed += r.N
		}
	}
	for _, r := range append(rows, purged...) {
		st.Retries += r.Retries
		switch r.State {
		case statePending, stateSending:
			st.PendingMessages += r.N
		case stateSent:
			st.Sent += r.N
			st.PossibleDuplicates += r.Lost
		case stateSkipped:
			st.Skipped += r.N
		case stateUnreachable:
			st.Unreachable += r.N
		case stateFailed:
			st.Failed += r.N
		}
	}
	return st, nil
}

// finalStates are the states a delivery does not leave.
var finalStates = []string{stateSent, stateSkipped, stateUnreachable, stateFailed}

// purge forgets finished deliveries and expanded events older than the
// cutoff, adding the deliveries' counts to the totals so the figures stay.
// It works in batches and tells how many deliveries went.
func (s *store) purge(ctx context.Context, before time.Time) (int64, error) {
	cutoff := before.UTC().UnixMicro()
	var total int64
	for {
		var n int64
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var ids []int64
			if err := tx.Model(&deliveryRow{}).Where("state IN ? AND updated_at < ?", finalStates, cutoff).
				Order("id").Limit(purgeBatch).Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
				return err
			}
			var sums []deliveryTotalRow
			if err := tx.Model(&deliveryRow{}).Select(deliveryCounts).Where("id IN ?", ids).Group("state").Scan(&sums).Error; err != nil {
				return err
			}
			for _, r := range sums {
				err := tx.Clauses(clause.OnConflict{
					Columns: []clause.Column{{Name: "state"}},
					DoUpdates: clause.Assignments(map[string]any{
						"n":       gorm.Expr("delivery_totals.n + ?", r.N),
						"retries": gorm.Expr("delivery_totals.retries + ?", r.Retries),
						"lost":    gorm.Expr("delivery_totals.lost + ?", r.Lost),
					}),
				}).Create(&r).Error
				if err != nil {
					return err
				}
			}
			res := tx.Where("id IN ?", ids).Delete(&deliveryRow{})
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch {
			break
		}
	}
	for {
		var ids []int64
		if err := s.db.WithContext(ctx).Model(&eventRow{}).Where("expanded_at > 0 AND expanded_at < ?", cutoff).
			Order("id").Limit(purgeBatch).Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
			return total, err
		}
		if err := s.db.WithContext(ctx).Where("id IN ?", ids).Delete(&eventRow{}).Error; err != nil {
			return total, err
		}
		if len(ids) < purgeBatch {
			return total, nil
		}
	}
}

const purgeBatch = 2000

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && !startsRune(s[n]) {
		n--
	}
	return s[:n]
}

func startsRune(b byte) bool { return b&0xC0 != 0x80 }
