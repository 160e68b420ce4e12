package notifier

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"
	tele "gopkg.in/telebot.v3"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
)

// sender drains the deliveries within Telegram's limits: one message per
// interval per chat, a global rate over all chats, one send at a time per
// chat. While Telegram fails it backs off (the whole sender, probing with
// one message at a time), honours retry_after on 429, and marks a user who
// blocked the bot unreachable instead of retrying.
//
// Every send is preceded by marking its delivery "sending" in the table and
// followed by marking it sent (or back to pending): a delivery found in
// "sending" at start lost its answer with the previous run and is sent
// again, counted as a possible duplicate. A sent delivery is never sent
// again. Only one sender may run over a store (one notifier per bot).
type sender struct {
	svc    *Service
	api    *tele.Bot
	global *rate.Limiter

	// Owned by the run loop.
	chats    map[int64]*chatState
	inflight map[int64]bool
	// waiting holds the chats that may have messages pending, each with
	// its first pending message as last read (nil: not known, ask the
	// store). Only the sender changes a pending message, and a wake
	// names the chats new ones are for, so what was read stays true
	// until then.
	waiting     map[int64]*deliveryRow
	failures    int
	pausedUntil time.Time
}

type chatState struct {
	lim         *rate.Limiter
	pausedUntil time.Time
}

// result is what a send came to, reported back to the run loop.
type result struct {
	chatID     int64
	out        outcome
	retryAfter time.Duration
}

func newSender(svc *Service, api *tele.Bot) *sender {
	return &sender{
		svc:      svc,
		api:      api,
		global:   rate.NewLimiter(rate.Limit(svc.cfg.TelegramRate), 1),
		chats:    map[int64]*chatState{},
		inflight: map[int64]bool{},
		waiting:  map[int64]*deliveryRow{},
	}
}

func (x *sender) now() time.Time { return x.svc.now() }

// run sends until ctx ends; sends in flight then finish and are recorded.
func (x *sender) run(ctx context.Context) error {
	if x.api == nil {
		return x.skipAll(ctx)
	}
	// The messages recovered count over the tries: a try that fails at
	// reading the waiting chats has recovered its share already.
	var recovered int64
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		n, err := x.svc.store.recoverSending(ctx)
		recovered += n
		if err != nil {
			return struct{}{}, err
		}
		chats, err := x.svc.store.waitingChats(ctx)
		for _, id := range chats {
			x.waiting[id] = nil
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(x.svc.retryPolicy()), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, _ time.Duration) {
			x.svc.log.Warn("reading the delivery queue failed; will retry", "err", err)
		}))
	if err != nil {
		return nil // ctx ended
	}
	if recovered > 0 {
		x.svc.log.Warn("messages left in sending by the previous run will be sent again; each may show twice", "count", recovered)
	}
	results := make(chan result, x.svc.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	var until time.Time
	look := true
	for {
		if look {
			until = x.now().Add(x.dispatch(ctx, results, &wg))
		}
		look = true
		timer := time.NewTimer(max(until.Sub(x.now()), 0))
		select {
		case <-ctx.Done():
			timer.Stop()
			for len(x.inflight) > 0 {
				x.settle(<-results)
			}
			return nil
		case <-x.svc.wakeSend:
			// Under a backlog most new messages are for chats that must
			// wait anyway; looking through the queue for each of them
			// would cost a scan of the backlog per task movement.
			woken := x.svc.wokenChats()
			for id := range woken {
				x.waiting[id] = nil
			}
			look = !x.allWaiting(woken, x.now())
		case r := <-results:
			x.settle(r)
		case <-timer.C:
		}
		timer.Stop()
	}
}

// allWaiting tells whether none of the chats may be sent to now (busy,
// limited, told to wait, or every send paused), so that the sender's
// next look, already timed for when one frees up, cannot come sooner.
func (x *sender) allWaiting(chats map[int64]bool, now time.Time) bool {
	if len(chats) == 0 {
		return false
	}
	if now.Before(x.pausedUntil) || untilToken(x.global, now) > 0 {
		return true
	}
	for id := range chats {
		if !x.inflight[id] && !x.chatBlocked(id, now) {
			return false
		}
	}
	return true
}

// skipAll records every message as skipped while no bot is configured.
func (x *sender) skipAll(ctx context.Context) error {
	for {
		if n, err := x.svc.store.skipAll(ctx, reasonNoBot); err != nil && ctx.Err() == nil {
			x.svc.log.Warn("recording messages as skipped failed", "err", err)
		} else if n > 0 {
			x.svc.log.Debug("no bot configured: messages skipped", "count", n)
		}
		timer := time.NewTimer(x.svc.cfg.IdleWait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-x.svc.wakeSend:
			x.svc.wokenChats()
		case <-timer.C:
		}
		timer.Stop()
	}
}

// dispatch starts as many sends as the limits allow now and returns how
// long the loop may sleep before there can be more to do.
func (x *sender) dispatch(ctx context.Context, results chan<- result, wg *sync.WaitGroup) time.Duration {
	cfg := &x.svc.cfg
	now := x.now()
	if now.Before(x.pausedUntil) {
		return x.pausedUntil.Sub(now)
	}
	// After a failure, one probe at a time until Telegram answers again.
	probing := x.failures > 0
	if probing && len(x.inflight) > 0 {
		return cfg.IdleWait
	}
	wait := cfg.IdleWait
	if unblock := x.freesUp(now); !unblock.IsZero() {
		wait = min(wait, unblock.Sub(now))
	}
	heads, next, err := x.heads(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			x.svc.log.Warn("reading the delivery queue failed", "err", err)
		}
		return min(wait, time.Second)
	}
	if !next.IsZero() {
		wait = min(wait, max(next.Sub(now), time.Millisecond))
	}
	for i := range heads {
		d := heads[i]
		if len(x.inflight) >= cfg.Workers {
			break
		}
		if t := untilToken(x.global, now); t > 0 {
			return min(wait, t)
		}
		if ctx.Err() != nil {
			break
		}
		// A claim is not cut short by the stop: one cancelled after the
		// database wrote it would leave the message "sending", to be sent
		// again and counted as a possible duplicate. Whatever it comes to,
		// the chat's next message is read again.
		x.waiting[d.ChatID] = nil
		ok, err := x.svc.store.claim(context.WithoutCancel(ctx), &d)
		if err != nil {
			wait = min(wait, time.Second) // the store again soon
			continue
		}
		if !ok {
			continue
		}
		// The limits count from when the message leaves, not from when
		// this round began.
		now = x.now()
		x.global.AllowN(now, 1)
		x.chat(d.ChatID).lim.AllowN(now, 1)
		x.inflight[d.ChatID] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- x.deliver(context.WithoutCancel(ctx), &d)
		}()
		if probing {
			return cfg.IdleWait
		}
	}
	return wait
}

// asksPerLook bounds the chats a look asks the store about: when
// thousands of chats have a message each (a message to every customer),
// a look must not cost a statement per chat; the rest are asked at the
// next looks, which follow at once.
const asksPerLook = 64

// heads returns the first message due now of each chat that may be sent
// to now, soonest due first, and when the sender should look again for
// the others (zero: nothing to look for). Chats busy or limited are not
// asked about: their messages wait, however many.
func (x *sender) heads(ctx context.Context, now time.Time) ([]deliveryRow, time.Time, error) {
	var heads []deliveryRow
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	asks := 0
	for id, head := range x.waiting {
		if x.inflight[id] || x.chatBlocked(id, now) {
			continue
		}
		if head == nil {
			if asks == asksPerLook {
				later(now)
				continue
			}
			asks++
			d, err := x.svc.store.firstDue(ctx, id)
			if err != nil {
				return nil, time.Time{}, err
			}
			if d == nil {
				delete(x.waiting, id)
				continue
			}
			x.waiting[id], head = d, d
		}
		if due := time.UnixMicro(head.NextAttemptAt); due.After(now) {
			later(due)
			continue
		}
		heads = append(heads, *head)
	}
	slices.SortFunc(heads, func(a, b deliveryRow) int {
		return cmp.Or(cmp.Compare(a.NextAttemptAt, b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return heads, next, nil
}

// untilToken is how long until the limiter allows one more event.
func untilToken(l *rate.Limiter, now time.Time) time.Duration {
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.Limit()) * float64(time.Second))
}

func (x *sender) chat(id int64) *chatState {
	c, ok := x.chats[id]
	if !ok {
		every := x.svc.cfg.TelegramChatInterval
		if id < 0 { // a group chat: Telegram allows 20 a minute
			every = x.svc.cfg.GroupChatInterval
		}
		c = &chatState{lim: rate.NewLimiter(rate.Every(every), 1)}
		x.chats[id] = c
	}
	return c
}

func (x *sender) chatBlocked(id int64, now time.Time) bool {
	c, ok := x.chats[id]
	return ok && (now.Before(c.pausedUntil) || untilToken(c.lim, now) > 0)
}

// freesUp is the earliest time a chat that may not be sent to now (limited
// or told to wait) frees up (zero: none). Chats free again are forgotten:
// a fresh limiter is the same as a full one.
func (x *sender) freesUp(now time.Time) time.Time {
	var earliest time.Time
	for id, c := range x.chats {
		ready := now.Add(untilToken(c.lim, now))
		if c.pausedUntil.After(ready) {
			ready = c.pausedUntil
		}
		if !ready.After(now) && !x.inflight[id] {
			delete(x.chats, id)
			continue
		}
		if ready.After(now) && (earliest.IsZero() || ready.Before(earliest)) {
			earliest = ready
		}
	}
	return earliest
}

// settle takes a finished send's result into the loop's state.
func (x *sender) settle(r result) {
	delete(x.inflight, r.chatID)
	now := x.now()
	// The chat's interval counts from Telegram's answer too: the message
	// reached Telegram before it, so the next one cannot arrive within
	// the interval however long the first took to get there.
	c := x.chat(r.chatID)
	c.lim = rate.NewLimiter(c.lim.Limit(), 1)
	c.lim.AllowN(now, 1)
	switch r.out {
	case outcomeSent, outcomeBlocked, outcomeRejected:
		x.failures = 0
		x.pausedUntil = time.Time{}
	case outcomeRetry, outcomeLost:
		// Telegram is failing or out of reach: everything waits.
		x.failures++
		x.pausedUntil = now.Add(x.svc.backoff(x.failures))
	case outcomeFlood:
		x.failures = 0
		x.pausedUntil = time.Time{}
		x.chat(r.chatID).pausedUntil = now.Add(r.retryAfter)
	}
}

// deliver sends one claimed delivery and records what came of it.
func (x *sender) deliver(ctx context.Context, d *deliveryRow) result {
	log := x.svc.log.With("delivery", d.ID, "event", d.EventID, "user", d.UserID, "attempt", d.Attempts)
	res := result{chatID: d.ChatID}
	markup, err := decodeMarkup(d.Markup)
	if err != nil {
		res.out = outcomeRejected
		x.record(ctx, log, func(ctx context.Context) error {
			return x.svc.store.markFinal(ctx, d.ID, stateFailed, "bad stored keyboard: "+err.Error())
		})
		return res
	}
	msg, err := x.api.Send(tele.ChatID(d.ChatID), d.Text, &tele.SendOptions{
		ParseMode:             tele.ModeHTML,
		ReplyMarkup:           markup,
		DisableWebPagePreview: true,
	})
	res.out, res.retryAfter = classify(err)
	now := x.now()
	reason := ""
	if err != nil {
		reason = redact(err.Error(), x.svc.cfg.TelegramToken)
	}
	switch res.out {
	case outcomeSent:
		var id int64
		if msg != nil {
			id = int64(msg.ID)
		}
		x.record(ctx, log, func(ctx context.Context) error { return x.svc.store.markSent(ctx, d.ID, id) })
		if d.LostAnswers > 0 || d.Uncertain {
			log.Warn("sent again after a lost answer: the recipient may see it twice")
		}
	case outcomeRetry, outcomeLost:
		at := now.Add(x.svc.backoff(int(d.Attempts)))
		log.Info("sending failed; will retry", "lost_answer", res.out == outcomeLost, "retry_at", at, "err", err)
		x.record(ctx, log, func(ctx context.Context) error {
			return x.svc.store.markRetry(ctx, d.ID, at, res.out == outcomeLost, reason)
		})
	case outcomeFlood:
		at := now.Add(res.retryAfter)
		log.Info("Telegram asks to slow down", "retry_after", res.retryAfter)
		x.record(ctx, log, func(ctx context.Context) error {
			return x.svc.store.markRetry(ctx, d.ID, at, false, reason)
		})
	case outcomeBlocked:
		log.Info("the user blocked the bot: marked unreachable", "chat", d.ChatID)
		x.record(ctx, log, func(ctx context.Context) error {
			return x.svc.store.markChatUnreachable(ctx, d.ID, d.ChatID, reason)
		})
		uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := x.svc.identity.UnlinkTelegram(uctx, &identityv1.UnlinkTelegramRequest{ChatId: d.ChatID, Reason: "blocked"})
		cancel()
		if err != nil {
			// The next message to this chat meets the same answer and
			// tries again.
			log.Warn("telling identity that the chat is unreachable failed", "err", err)
		}
	case outcomeRejected:
		log.Warn("Telegram refused the message; not retried", "err", err)
		x.record(ctx, log, func(ctx context.Context) error {
			return x.svc.store.markFinal(ctx, d.ID, stateFailed, reason)
		})
	}
	return res
}

// record writes a send's outcome, retrying a failing database a few times:
// an outcome not written leaves the delivery in "sending", which the next
// start sends again.
func (x *sender) record(ctx context.Context, log interface {
	Error(string, ...any)
}, write func(context.Context) error) {
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return struct{}{}, write(wctx)
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 100 * time.Millisecond, Multiplier: 2, MaxInterval: 400 * time.Millisecond,
	}), backoff.WithMaxTries(5))
	if err == nil {
		return
	}
	log.Error("recording a send failed; the next start will send it again", "err", err)
}

// retryPolicy is the backoff of the loops that retry within one call
// (reaching Telegram, reading the queue): the same shape as backoff.
func (s *Service) retryPolicy() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval: s.cfg.BackoffBase, Multiplier: 2, RandomizationFactor: 0.2, MaxInterval: s.cfg.BackoffMax,
	}
}

// backoff is the wait before retry n (1-based): doubling from the base up
// to the cap, with ±20% jitter so retries spread out.
func (s *Service) backoff(n int) time.Duration {
	d := s.cfg.BackoffBase
	for i := 1; i < n && d < s.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.BackoffMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
