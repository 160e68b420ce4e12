package notifier

import (
	"context"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// expand turns queued events into deliveries, one per recipient, until ctx
// ends. Whom to tell is the identity service's answer; while it cannot be
// asked, events wait and are tried again with backoff.
func (s *Service) expand(ctx context.Context) error {
	for {
		events, err := s.store.pendingEvents(ctx, 50)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("reading queued events failed", "err", err)
		}
		for i := range events {
			if ctx.Err() != nil {
				return nil
			}
			if err := s.expandOne(ctx, &events[i]); err != nil && ctx.Err() == nil {
				at := s.now().Add(s.backoff(int(events[i].Attempts) + 1))
				s.log.Warn("finding the recipients of an event failed; will retry", "event", events[i].EventID, "retry_at", at, "err", err)
				if err := s.store.deferEvent(ctx, events[i].ID, at, err.Error()); err != nil && ctx.Err() == nil {
					s.log.Warn("putting an event off failed", "event", events[i].EventID, "err", err)
				}
			}
		}
		if len(events) > 0 && err == nil {
			continue
		}
		s.idle(ctx, s.wakeExpand, s.store.nextEventAttempt)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// idle waits for a background loop's next turn: a wake, the time next
// says something is due, or IdleWait at the most; or ctx's end.
func (s *Service) idle(ctx context.Context, wake <-chan struct{}, next func(context.Context) (time.Time, bool, error)) {
	wait := s.cfg.IdleWait
	if at, ok, err := next(ctx); err == nil && ok {
		wait = min(wait, max(at.Sub(s.now()), time.Millisecond))
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-timer.C:
	}
}

// expandOne writes one event's deliveries.
func (s *Service) expandOne(ctx context.Context, e *eventRow) error {
	var n notifierv1.TaskNotice
	if err := proto.Unmarshal(e.Notice, &n); err != nil {
		// Cannot happen for what EnqueueTaskEvent stored; do not retry
		// forever.
		s.log.Error("a queued event cannot be read; dropped", "event", e.EventID, "err", err)
		return s.store.expand(ctx, e.ID, nil)
	}
	// the customer's message first: a failure here retries the whole
	// event, and both writes are once per event
	if err := s.tellCustomer(ctx, &n); err != nil {
		return err
	}
	groups, users := uniqueIDs(n.GetGroupIds()), uniqueIDs(n.GetUserIds())
	if len(groups) == 0 && len(users) == 0 && !n.GetIncludeSupervisors() {
		return s.store.expand(ctx, e.ID, nil)
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := s.identity.ListRecipients(rctx, &identityv1.ListRecipientsRequest{
		GroupIds:           groups,
		UserIds:            users,
		IncludeSupervisors: n.GetIncludeSupervisors(),
	})
	if err != nil {
		return err
	}
	ds, err := s.deliveriesFor(&n, resp.GetRecipients())
	if err != nil {
		return err
	}
	if err := s.store.expand(ctx, e.ID, ds); err != nil {
		return err
	}
	var chats []int64
	for _, d := range ds {
		if d.State == statePending {
			chats = append(chats, d.ChatID)
		}
	}
	if len(chats) > 0 {
		s.wakeSender(chats)
	}
	return nil
}

// deliveriesFor applies the recipient rules: everyone the identity service
// names, but the person who acted only when they asked to hear of their
// own actions; those without a linked chat are recorded as skipped.
// Members of the task's current group get the action buttons while the
// task is open; the technicians booked for its visit get the visit's
// report buttons instead.
func (s *Service) deliveriesFor(n *notifierv1.TaskNotice, recipients []*identityv1.Recipient) ([]deliveryRow, error) {
	open := n.GetTaskState() == taskv1.TaskState_TASK_STATE_OPEN && n.GetProcessId() != 0 && n.GetCurrentGroupId() != 0
	seen := map[int64]bool{}
	var out []deliveryRow
	for _, r := range recipients {
		uid := r.GetUserId()
		if uid == 0 || seen[uid] {
			continue
		}
		seen[uid] = true
		if uid == n.GetActorId() && !r.GetNotifySelf() {
			continue
		}
		d := deliveryRow{
			EventID:    n.GetEventId(),
			UserID:     uid,
			ChatID:     r.GetTelegramChatId(),
			TaskID:     n.GetTaskId(),
			TaskNumber: clip(n.GetTaskNumber(), 50),
			ProcessID:  n.GetProcessId(),
			Language:   s.cfg.readerLang(r.GetLanguage()),
			State:      statePending,
		}
		d.Text = render(n, d.Language, s.cfg.PublicURL, s.zone)
		if kb := noticeVisitButtons(n, uid, d.Language); kb != nil {
			m, err := encodeMarkup(kb)
			if err != nil {
				return nil, err
			}
			d.Markup = m
		} else if open && slices.Contains(r.GetGroupIds(), n.GetCurrentGroupId()) {
			m, err := encodeMarkup(buttons(n, uid, d.Language))
			if err != nil {
				return nil, err
			}
			d.Markup = m
		}
		if d.ChatID == 0 {
			d.State, d.Reason = stateSkipped, reasonNoChat
		}
		out = append(out, d)
	}
	return out, nil
}

func uniqueIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id != 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
