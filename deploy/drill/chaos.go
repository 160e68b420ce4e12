package drill

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

// fault is one thing the drill did to the stack, for the report.
type fault struct {
	At   time.Duration // since the work began
	What string
	Down time.Duration // until the stack answered again
	Err  string
}

// chaos records the faults done.
type chaos struct {
	mu     sync.Mutex
	start  time.Time
	faults []fault
	kills  map[string]int
	out    io.Writer
}

func newChaos(out io.Writer) *chaos {
	return &chaos{start: time.Now(), kills: map[string]int{}, out: out}
}

func (c *chaos) record(f fault) {
	c.mu.Lock()
	c.faults = append(c.faults, f)
	c.mu.Unlock()
	line := fmt.Sprintf("  %7s  %s", f.At.Round(100*time.Millisecond), f.What)
	if f.Down > 0 {
		line += fmt.Sprintf(" (after %s)", f.Down.Round(100*time.Millisecond))
	}
	if f.Err != "" {
		line += " — " + f.Err
	}
	fmt.Fprintln(c.out, line)
}

// killLoop kills a component with SIGKILL at random intervals, every
// component in turn (in a shuffled order each round), waits until the
// supervisor has it back and answering, and goes on until ctx ends.
func killLoop(ctx context.Context, s *Stack, c *chaos, opt Options) {
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 99))
	var round []string
	for {
		pause := opt.KillMin + time.Duration(rng.Int64N(int64(opt.KillMax-opt.KillMin)+1))
		if !sleep(ctx, pause) {
			return
		}
		if len(round) == 0 {
			round = append([]string(nil), opt.Components...)
			rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		}
		name := round[0]
		round = round[1:]
		at := time.Since(c.start)
		f := fault{At: at, What: "SIGKILL " + name}
		if err := s.Kill(name); err != nil {
			f.Err = err.Error()
			c.record(f)
			continue
		}
		c.mu.Lock()
		c.kills[name]++
		c.mu.Unlock()
		killed := time.Now()
		if err := s.WaitReady(context.WithoutCancel(ctx), name, 3*time.Minute); err != nil {
			f.Err = err.Error()
		}
		f.Down = time.Since(killed)
		c.record(f)
	}
}

// restartSchedule restarts Temporal and PostgreSQL in turn as the work
// passes the given shares of its tasks.
func restartSchedule(ctx context.Context, s *Stack, pg *Postgres, wl *workload, c *chaos, opt Options) {
	var events []string
	for i := 0; i < max(opt.TemporalRestarts, opt.PostgresRestarts); i++ {
		if i < opt.TemporalRestarts {
			events = append(events, "temporal")
		}
		if i < opt.PostgresRestarts && pg != nil {
			events = append(events, "postgres")
		}
	}
	for i, what := range events {
		at := float64(i+1) / float64(len(events)+1) * 0.9
		for wl.progress() < at {
			if !sleep(ctx, 100*time.Millisecond) {
				return
			}
		}
		f := fault{At: time.Since(c.start)}
		began := time.Now()
		// A restart is seen through even when the work ends meanwhile.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		switch what {
		case "temporal":
			how := "stop (SIGTERM)"
			if opt.TemporalCrash {
				how = "kill -9"
			}
			f.What = fmt.Sprintf("Temporal dev server: %s, down %s, start on the same history", how, opt.TemporalDown)
			if err := s.Target.(TemporalRestarter).RestartTemporal(rctx, opt.TemporalDown, opt.TemporalCrash); err != nil {
				f.Err = err.Error()
			}
		case "postgres":
			f.What = "PostgreSQL: pg_ctl restart -m fast"
			if err := pg.Restart(rctx); err != nil {
				f.Err = err.Error()
			}
		}
		if err := allReady(rctx, s, 3*time.Minute); err != nil && f.Err == "" {
			f.Err = err.Error()
		}
		cancel()
		f.Down = time.Since(began)
		c.record(f)
	}
}

// telegramSchedule makes the fake Bot API misbehave as the work goes on:
// a few lost answers, 429s and 502s early; once the notifier delivers
// again, unreachable for the outage; once it delivers again after that, a
// few lost answers more.
func telegramSchedule(ctx context.Context, tg *botapifake.Server, wl *workload, c *chaos, opt Options) {
	wait := func(share float64) bool { return wl.reach(ctx, share) }
	// delivering waits until the fake takes a message after since.
	delivering := func(since time.Time, what string) bool {
		return c.resumed(ctx, since, what, func() (time.Time, bool) {
			for _, a := range tg.Attempts() {
				if a.At.After(since) && a.Result == botapifake.ResultSent {
					return a.At, true
				}
			}
			return time.Time{}, false
		})
	}
	if !wait(0.05) {
		return
	}
	began := time.Now()
	tg.FailSends(0, botapifake.Drop, opt.LostAnswers, 0)
	tg.FailSends(0, botapifake.Flood, 3, 1)
	tg.FailSends(0, botapifake.ServerError, 3, 0)
	c.record(fault{At: time.Since(c.start), What: fmt.Sprintf("Bot API: the next %d sends lose their answer, then three 429 (retry after 1 s), three 502", opt.LostAnswers)})
	for len(tg.Attempts()) < opt.LostAnswers+6 {
		if !sleep(ctx, 200*time.Millisecond) {
			return
		}
	}
	if !delivering(began, "the notifier delivers again after the lost answers, 429s and 502s") || !wait(0.2) {
		return
	}
	tg.GoDown()
	began = time.Now()
	c.record(fault{At: time.Since(c.start), What: fmt.Sprintf("Bot API unreachable (connections refused) for %s", opt.Outage)})
	sleep(ctx, opt.Outage)
	f := fault{At: time.Since(c.start), What: "Bot API reachable again", Down: time.Since(began)}
	if err := tg.ComeBack(); err != nil {
		f.Err = err.Error()
	}
	c.record(f)
	if !delivering(time.Now(), "the notifier delivers again after the outage") || !wait(0.8) {
		return
	}
	tg.FailSends(0, botapifake.Drop, opt.LostAnswers, 0)
	c.record(fault{At: time.Since(c.start), What: fmt.Sprintf("Bot API: the next %d sends lose their answer", opt.LostAnswers)})
}

// resumed waits until taken says when a fake first took a message after
// since, and records how long that took (false: ctx ended).
func (c *chaos) resumed(ctx context.Context, since time.Time, what string, taken func() (time.Time, bool)) bool {
	for {
		if at, ok := taken(); ok {
			c.record(fault{At: time.Since(c.start), What: what, Down: at.Sub(since)})
			return true
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return false
		}
	}
}

// reach waits until this share of the work is done (false: ctx ended).
func (wl *workload) reach(ctx context.Context, share float64) bool {
	for wl.progress() < share {
		if !sleep(ctx, 100*time.Millisecond) {
			return false
		}
	}
	return true
}

// smsSchedule makes the fake SMS.ru misbehave beside the Bot API: lost
// answers, 429s and temporary refusals (code 220) early; once the notifier
// texts again, down (503) for the outage; once it texts again after that,
// a few lost answers more.
func smsSchedule(ctx context.Context, sms *smsrufake.Server, wl *workload, c *chaos, opt Options) {
	wait := func(share float64) bool { return wl.reach(ctx, share) }
	// texting waits until the fake takes a message after since.
	texting := func(since time.Time, what string) bool {
		return c.resumed(ctx, since, what, func() (time.Time, bool) {
			for _, m := range sms.Sent() {
				if m.At.After(since) {
					return m.At, true
				}
			}
			return time.Time{}, false
		})
	}
	if !wait(0.1) {
		return
	}
	sms.DropAnswers(opt.LostAnswers)
	sms.Throttle(3)
	sms.Refuse(220, 220, 220)
	began := time.Now()
	c.record(fault{At: time.Since(c.start), What: fmt.Sprintf("SMS.ru: the next %d sends lose their answer, three are answered 429, three refused with 220 (service unavailable)", opt.LostAnswers)})
	if !texting(began, "the notifier texts again after the lost answers, 429s and refusals") || !wait(0.3) {
		return
	}
	sms.GoDown()
	began = time.Now()
	c.record(fault{At: time.Since(c.start), What: fmt.Sprintf("SMS.ru down (503 to every call) for %s", opt.Outage)})
	sleep(ctx, opt.Outage)
	sms.ComeBack()
	c.record(fault{At: time.Since(c.start), What: "SMS.ru up again", Down: time.Since(began)})
	if !texting(time.Now(), "the notifier texts again after the outage") || !wait(0.7) {
		return
	}
	sms.DropAnswers(opt.LostAnswers)
	c.record(fault{At: time.Since(c.start), What: fmt.Sprintf("SMS.ru: the next %d sends lose their answer", opt.LostAnswers)})
}

// allReady waits until every component answers its health check.
func allReady(ctx context.Context, s *Stack, timeout time.Duration) error {
	for _, name := range s.Components() {
		if err := s.WaitReady(ctx, name, timeout); err != nil {
			return err
		}
	}
	return nil
}
