// Package drill runs the fault drills: real work through the REST API —
// contracts for new customers, their connection tasks walked along route
// No. 1, service tasks on a route of the drill's own, with comments,
// returns, cancellations — while the stack is hurt: components killed
// with SIGKILL, Temporal and PostgreSQL restarted, Telegram out of reach.
// Clients retry as people do and keep a ledger of what they believe they
// did; afterwards the verdict compares the ledger with the read model,
// Temporal's visibility and what the fake Telegram received.
package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

// Kind names a drill.
type Kind string

const (
	// Kill kills the worker and every service with SIGKILL at random
	// moments; the stack's supervisor restarts them.
	Kill Kind = "kill"
	// Restart stops and starts the Temporal dev server and restarts the
	// drill's own PostgreSQL cluster, which the services run on.
	Restart Kind = "restart"
	// Telegram makes the Bot API unreachable for a while, and loses a few
	// of its answers.
	Telegram Kind = "telegram"
)

// Kinds are the drills in the order `make drills` runs them.
var Kinds = []Kind{Kill, Restart, Telegram}

// Options size and shape a drill.
type Options struct {
	Tasks   int
	Clients int
	Seed    int64
	// Shares of the tasks a client leaves open, cancels, closes by a
	// resolution (connection tasks), sends back once.
	OpenShare, CancelShare, ResolutionShare, ReturnShare float64
	// CommentShare is the share of processes where a client comments
	// before completing (completing always carries a comment too).
	CommentShare float64
	// CommandTimeout is how long a client keeps trying one request.
	CommandTimeout time.Duration
	// Settle bounds the wait, after the work, for workflows and
	// notifications to finish.
	Settle time.Duration

	// Kill: the pause between kills, and whom to kill.
	KillMin, KillMax time.Duration
	Components       []string
	// Restart.
	TemporalRestarts int
	TemporalDown     time.Duration
	TemporalCrash    bool
	PostgresRestarts int
	PostgresBin      string
	// Telegram.
	Outage      time.Duration
	LostAnswers int
	// The notifier's pace against the fake Bot API: Telegram's own limits
	// (1 s per chat, 30/s) would stretch a drill's messages over an hour.
	ChatInterval time.Duration
	TelegramRate float64
}

// Defaults are the figures: 1,000 tasks.
func Defaults() Options {
	return Options{
		Tasks:            1000,
		Clients:          16,
		Seed:             1,
		OpenShare:        0.05,
		CancelShare:      0.08,
		ResolutionShare:  0.04,
		ReturnShare:      0.3,
		CommentShare:     0.4,
		CommandTimeout:   5 * time.Minute,
		Settle:           5 * time.Minute,
		KillMin:          2 * time.Second,
		KillMax:          8 * time.Second,
		Components:       []string{"worker", "task", "contract", "customer", "identity", "notifier", "gateway"},
		TemporalRestarts: 2,
		TemporalDown:     5 * time.Second,
		PostgresRestarts: 2,
		PostgresBin:      DefaultPostgresBin,
		Outage:           2 * time.Minute,
		LostAnswers:      5,
		ChatInterval:     10 * time.Millisecond,
		TelegramRate:     1000,
	}
}

const botToken = "123456:drill-token"

const smsKey = "drill-sms-key"

// Run runs one drill on a stack that start makes, prints what happens and
// the verdict to out, and returns the verdict.
func Run(ctx context.Context, kind Kind, opt Options, start StartFunc, out io.Writer) (*Verdict, error) {
	began := time.Now()
	fmt.Fprintf(out, "== drill %s: %d tasks, %d clients, seed %d\n", kind, opt.Tasks, opt.Clients, opt.Seed)
	tg, err := botapifake.New(botToken)
	if err != nil {
		return nil, err
	}
	defer tg.Close()
	// Customers are texted through a fake SMS.ru (they link no chat), at
	// the Telegram rate and at any hour.
	provider, err := smsrufake.New(smsKey)
	if err != nil {
		return nil, err
	}
	defer provider.Close()
	env := map[string]string{
		"CRM_SMS_PROVIDER":           "smsru",
		"CRM_SMS_API_URL":            provider.URL(),
		"CRM_SMS_API_KEY":            smsKey,
		"CRM_SMS_RATE":               strconv.FormatFloat(opt.TelegramRate, 'f', -1, 64),
		"CRM_CUSTOMER_QUIET_HOURS":   "none",
		"CRM_TELEGRAM_TOKEN":         botToken,
		"CRM_TELEGRAM_API_URL":       tg.URL(),
		"CRM_TELEGRAM_BOT_USERNAME":  botapifake.BotUsername,
		"CRM_TELEGRAM_CHAT_INTERVAL": opt.ChatInterval.String(),
		"CRM_TELEGRAM_RATE":          strconv.FormatFloat(opt.TelegramRate, 'f', -1, 64),
	}
	var pg *Postgres
	if kind == Restart && opt.PostgresRestarts > 0 {
		fmt.Fprintf(out, "starting a throwaway PostgreSQL cluster (%s)…\n", opt.PostgresBin)
		if pg, err = StartPostgres(ctx, opt.PostgresBin); err != nil {
			return nil, err
		}
		defer pg.Stop()
		fmt.Fprintf(out, "PostgreSQL on 127.0.0.1:%d; the services keep their tables there\n", pg.Port())
		env["CRM_DATABASE_URL"] = pg.URL()
	}
	fmt.Fprintln(out, "starting the stack…")
	s, stop, err := start(ctx, env)
	if err != nil {
		return nil, err
	}
	defer stop()
	if _, ok := s.Target.(TemporalRestarter); kind == Restart && opt.TemporalRestarts > 0 && !ok {
		return nil, errors.New("the restart drill needs a stack that can restart its Temporal server")
	}

	stats := &counters{}
	c := &caller{base: s.ConsoleURL(), stats: stats, timeout: opt.CommandTimeout,
		healthy: func(ctx context.Context) error { return allReady(ctx, s, opt.CommandTimeout) }}
	fmt.Fprintln(out, "setting up: people in every group, their Telegram chats linked through the bot, a service route…")
	w, err := setUp(ctx, c, s.AdminPassword, tg)
	if err != nil {
		return nil, fmt.Errorf("setting up: %w", err)
	}
	w.sms = provider

	l := newLedger()
	wl := newWorkload(w, l, opt)
	ch := newChaos(out)
	workCtx, stopChaos := context.WithCancel(ctx)
	var chaosDone sync.WaitGroup
	chaosDone.Add(1)
	// Kills go on while the work does; the restarts and the Telegram
	// faults are a schedule, played out whole even if the work ends first.
	go func() {
		defer chaosDone.Done()
		switch kind {
		case Kill:
			killLoop(workCtx, s, ch, opt)
		case Restart:
			restartSchedule(ctx, s, pg, wl, ch, opt)
		case Telegram:
			var both sync.WaitGroup
			both.Go(func() { smsSchedule(ctx, provider, wl, ch, opt) })
			telegramSchedule(ctx, tg, wl, ch, opt)
			both.Wait()
		}
	}()
	go progress(workCtx, wl, stats, ch, out)
	fmt.Fprintln(out, "working; faults as they happen:")
	wl.run(ctx)
	workTook := time.Since(ch.start)
	stopChaos()
	chaosDone.Wait()
	if tg.Down() {
		_ = tg.ComeBack()
	}
	provider.ComeBack()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	fmt.Fprintf(out, "work done in %s; waiting for the stack to settle…\n", workTook.Round(time.Second))
	o, err := settle(ctx, w, s, l, opt.Settle, out)
	if err != nil {
		return nil, err
	}
	v := judge(l, o, w, stats)
	v.Drill, v.Options, v.WorkTook = string(kind), opt, workTook
	v.Faults, v.Kills, v.Components = ch.faults, ch.kills, s.Components()
	v.Took = time.Since(began)
	if !v.Pass() {
		v.DataDir = s.DataDir
	}
	v.Report(out)
	return v, nil
}

// settle waits until the notifier's queue is empty and Temporal runs as
// many workflows as the ledger has open tasks (or the time is up), then
// observes; while notifications are still missing it looks again. Every
// 30 s it says what it is still waiting for, so a slow settling names
// its cause.
func settle(ctx context.Context, w *world, s *Stack, l *ledger, within time.Duration, out io.Writer) (*observed, error) {
	began := time.Now()
	deadline := began.Add(within)
	said := began
	waiting := func(what ...string) {
		if time.Since(said) >= 30*time.Second {
			said = time.Now()
			fmt.Fprintf(out, "  %7s  still waiting for: %s\n", time.Since(began).Round(time.Second), strings.Join(what, "; "))
		}
	}
	if err := allReady(ctx, s, within); err != nil {
		return nil, err
	}
	open := 0
	for _, t := range l.tasks {
		switch {
		case t.State == stateOpen:
			open++
			if t.Kind == kindConnection {
				open++
			}
		case t.State == stateClosed && t.Kind == kindConnection:
			open++ // its welcome call waits
		}
	}
	quiet := 0
	for time.Now().Before(deadline) {
		st, err := w.stats(ctx)
		running, _, werr := workflows(ctx, s)
		switch {
		case err != nil || werr != nil:
			quiet = 0
			waiting(fmt.Sprint("the stack to answer: ", errors.Join(err, werr)))
		case st.PendingEvents+st.PendingMessages+st.SMSPending > 0 || len(running) > open:
			quiet = 0
			waiting(fmt.Sprintf("%d events, %d messages and %d texts queued in the notifier; %d workflows running for %d expected",
				st.PendingEvents, st.PendingMessages, st.SMSPending, len(running), open))
		default:
			quiet++
		}
		if quiet == 3 {
			break
		}
		if !sleep(ctx, 2*time.Second) {
			return nil, ctx.Err()
		}
	}
	o, err := observe(ctx, w, s)
	if err != nil {
		return nil, err
	}
	for time.Now().Before(deadline) {
		// what the stack may still be finishing: workflows, messages, texts
		left := judge(l, o, w, &counters{}).unsettled()
		if len(left) == 0 {
			break
		}
		waiting(left...)
		if !sleep(ctx, 3*time.Second) {
			return nil, ctx.Err()
		}
		if o, err = observe(ctx, w, s); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// progress prints a line every 15 s while the work goes on.
func progress(ctx context.Context, wl *workload, stats *counters, ch *chaos, out io.Writer) {
	for sleep(ctx, 15*time.Second) {
		fmt.Fprintf(out, "  %7s  progress: %d of %d tasks opened, %d commands, %d retried\n",
			time.Since(ch.start).Round(time.Second), wl.created.Load(), wl.opt.Tasks, stats.commands.Load(), stats.retried.Load())
	}
}

// KeepOrRemove removes a drill's data folder unless it failed.
func KeepOrRemove(v *Verdict, dir string) {
	if v != nil && v.Pass() {
		os.RemoveAll(dir)
	}
}
