package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	tele "gopkg.in/telebot.v3"

	"github.com/telecomcrm/crm/services/platform/process"
)

// allowedUpdates are the updates the bot asks Telegram for.
var allowedUpdates = []string{"message", "callback_query"}

// maxConcurrentUpdates bounds the updates handled at once; the poll (or the
// webhook) waits for a free slot.
const maxConcurrentUpdates = 16

// chatBot is the conversational part: it receives updates by long polling
// (or a webhook) and answers commands, button presses and replies.
type chatBot struct {
	svc *Service
	// poll reads updates; its requests end with the service.
	poll *tele.Bot
	// bot runs the handlers and answers in chats; its calls are bounded by
	// the send timeout, so an answer under way when the service stops is
	// still given.
	bot  *tele.Bot
	sem  chan struct{}
	busy sync.WaitGroup
}

func (s *Service) newChatBot(ctx context.Context) (*chatBot, error) {
	poll, err := newTelegramClient(s.cfg.TelegramAPIURL, s.cfg.TelegramToken, s.cfg.PollTimeout+s.cfg.SendTimeout, ctx)
	if err != nil {
		return nil, err
	}
	bot, err := newTelegramClient(s.cfg.TelegramAPIURL, s.cfg.TelegramToken, s.cfg.SendTimeout, nil)
	if err != nil {
		return nil, err
	}
	b := &chatBot{svc: s, poll: poll, bot: bot, sem: make(chan struct{}, maxConcurrentUpdates)}
	b.register()
	return b, nil
}

// run receives updates until ctx ends, then waits for the handlers at work.
func (b *chatBot) run(ctx context.Context) error {
	defer b.busy.Wait()
	me, ok := b.getMe(ctx)
	if !ok {
		return nil
	}
	b.bot.Me = me
	b.replay(ctx)
	if b.svc.cfg.WebhookURL != "" {
		return b.serveWebhook(ctx)
	}
	b.longPoll(ctx)
	return nil
}

// retry calls f until it succeeds or ctx ends, backing off between tries.
func (b *chatBot) retry(ctx context.Context, what string, f func() error) bool {
	_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, f() },
		backoff.WithBackOff(b.svc.retryPolicy()), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) {
			b.svc.log.Warn("Telegram call failed; will retry", "call", what, "retry_in", wait, "err", err)
		}))
	return err == nil
}

func (b *chatBot) getMe(ctx context.Context) (*tele.User, bool) {
	var me tele.User
	ok := b.retry(ctx, "getMe", func() error {
		data, err := b.poll.Raw("getMe", nil)
		if err != nil {
			return err
		}
		var resp struct{ Result tele.User }
		if err := json.Unmarshal(data, &resp); err != nil {
			return err
		}
		me = resp.Result
		return nil
	})
	if ok {
		b.svc.log.Info("bot connected", "username", me.Username)
	}
	return &me, ok
}

// longPoll asks Telegram for updates, each call waiting up to the poll
// timeout, and backs off while Telegram cannot be reached.
func (b *chatBot) longPoll(ctx context.Context) {
	// A webhook left from an earlier configuration would make getUpdates
	// fail; updates waiting at Telegram are kept.
	if !b.retry(ctx, "deleteWebhook", func() error { return b.poll.RemoveWebhook(false) }) {
		return
	}
	offset, failing := 0, b.svc.retryPolicy()
	for ctx.Err() == nil {
		updates, err := b.getUpdates(offset)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := failing.NextBackOff()
			b.svc.log.Warn("reading updates from Telegram failed; will retry", "retry_in", wait, "err", err)
			if !process.Sleep(ctx, wait) {
				return
			}
			continue
		}
		failing.Reset()
		for _, raw := range updates {
			id, err := b.take(ctx, raw)
			if err != nil {
				// Not recorded: ask again from this update on, after a
				// pause; Telegram keeps it until the offset passes it.
				b.svc.log.Warn("recording a Telegram update failed; will ask for it again", "err", err)
				if !process.Sleep(ctx, b.svc.backoff(1)) {
					return
				}
				break
			}
			if id >= offset {
				offset = id + 1
			}
		}
	}
}

// take records an update (Bot API JSON) and hands it to a handler unless
// it was recorded before. It tells the update's id; an error means the
// update was not recorded, and must be asked for again.
func (b *chatBot) take(ctx context.Context, raw []byte) (int, error) {
	var u tele.Update
	if err := json.Unmarshal(raw, &u); err != nil || u.ID <= 0 {
		return 0, errBadUpdate
	}
	fresh, err := b.svc.store.recordUpdate(ctx, int64(u.ID), raw)
	if err != nil {
		return u.ID, err
	}
	if !fresh {
		b.svc.log.Info("a Telegram update came again; it was handled once already", "update", u.ID)
		return u.ID, nil
	}
	// Recorded: a stop before it runs leaves it to the next start.
	b.dispatch(ctx, u)
	return u.ID, nil
}

var errBadUpdate = errors.New("not a Telegram update")

// replay hands out the updates recorded but not handled when the notifier
// last stopped.
func (b *chatBot) replay(ctx context.Context) {
	rows, err := b.svc.store.unhandledUpdates(ctx)
	if err != nil {
		b.svc.log.Warn("reading the Telegram updates left unhandled failed", "err", err)
		return
	}
	for _, r := range rows {
		var u tele.Update
		if err := json.Unmarshal(r.Payload, &u); err != nil {
			continue
		}
		b.svc.log.Info("handling a Telegram update left from the last run", "update", u.ID, "attempt", r.Attempts+1)
		if !b.dispatch(ctx, u) {
			return
		}
	}
}

func (b *chatBot) getUpdates(offset int) ([]json.RawMessage, error) {
	data, err := b.poll.Raw("getUpdates", map[string]any{
		"offset":          offset,
		"timeout":         int(b.svc.cfg.PollTimeout / time.Second),
		"allowed_updates": allowedUpdates,
	})
	if err != nil {
		return nil, err
	}
	var resp struct{ Result []json.RawMessage }
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, err
	}
	return resp.Result, nil
}

// dispatch hands an update to a handler of its own; it waits for a free
// slot, and tells false when ctx ended first.
func (b *chatBot) dispatch(ctx context.Context, u tele.Update) bool {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	b.busy.Add(1)
	go func() {
		defer b.busy.Done()
		defer func() { <-b.sem }()
		defer b.handled(u.ID)
		defer func() {
			if p := recover(); p != nil {
				b.svc.log.Error("panic while handling a Telegram update", "update", u.ID, "panic", p, "stack", string(debug.Stack()))
			}
		}()
		b.bot.ProcessUpdate(u)
	}()
	return true
}

// handled marks an update done, even while the service stops: its answer
// was given.
func (b *chatBot) handled(id int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.svc.store.updateHandled(ctx, int64(id)); err != nil {
		b.svc.log.Warn("marking a Telegram update handled failed; a restart will handle it again", "update", id, "err", err)
	}
}

// serveWebhook serves Telegram's calls at the webhook's path and registers
// the webhook with Telegram.
func (b *chatBot) serveWebhook(ctx context.Context) error {
	u, _ := url.Parse(b.svc.cfg.WebhookURL) // checked by Config.check
	path := u.Path
	if path == "" {
		path = "/"
	}
	lis, err := net.Listen("tcp", b.svc.cfg.WebhookListen)
	if err != nil {
		return fmt.Errorf("CRM_TELEGRAM_WEBHOOK_ADDR %s: %w", b.svc.cfg.WebhookListen, err)
	}
	addr := lis.Addr().String()
	b.svc.webhookAddr.Store(&addr)
	mux := http.NewServeMux()
	mux.Handle(path, b.webhookHandler(ctx))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	b.svc.log.Info("serving the Telegram webhook", "addr", addr, "path", path)
	b.retry(ctx, "setWebhook", func() error {
		return b.poll.SetWebhook(&tele.Webhook{
			Endpoint:       &tele.WebhookEndpoint{PublicURL: b.svc.cfg.WebhookURL},
			SecretToken:    b.svc.cfg.WebhookSecret,
			AllowedUpdates: allowedUpdates,
		})
	})
	select {
	case err := <-served:
		return fmt.Errorf("serving the Telegram webhook: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// webhookHandler takes Telegram's webhook calls. A call without the
// secret Telegram was given is refused with 403 and changes nothing; the
// secret is compared in constant time. An update is answered 200 only once
// it is recorded; a failure to record it is a 500, so Telegram sends it
// again.
func (b *chatBot) webhookHandler(ctx context.Context) http.Handler {
	want := sha256.Sum256([]byte(b.svc.cfg.WebhookSecret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token")))
		if !hmac.Equal(got[:], want[:]) {
			b.svc.log.Warn("a webhook call without the right secret was refused", "remote", r.RemoteAddr)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if _, err := b.take(ctx, raw); err != nil {
			if errors.Is(err, errBadUpdate) {
				http.Error(w, "bad update", http.StatusBadRequest)
				return
			}
			b.svc.log.Warn("recording a Telegram update failed; Telegram will send it again", "err", err)
			http.Error(w, "not recorded", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

var errNotLinked = errors.New("chat not linked")
