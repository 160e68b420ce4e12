package task

import (
	"context"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// pump drains a queue the service writes in its own transactions (the
// notices of steps, the events for webhooks): it runs flush again at once
// while flush finds work, on a kick, or every two seconds, and backs off
// while flush fails.
type pump struct {
	flush func(context.Context) (int, error)
	// failing is what the log says while flush fails.
	failing string
	log     *slog.Logger
	wake    chan struct{}
}

func newPump(failing string, flush func(context.Context) (int, error), log *slog.Logger) pump {
	return pump{flush: flush, failing: failing, log: log, wake: make(chan struct{}, 1)}
}

// kick asks the pump to look now rather than at its next tick.
func (p *pump) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run drains the queue until ctx ends.
func (p *pump) run(ctx context.Context) {
	// While flush fails the wait doubles from a second up to a minute; any
	// success starts it again from a second.
	failing := &backoff.ExponentialBackOff{InitialInterval: time.Second, Multiplier: 2, MaxInterval: time.Minute}
	for {
		n, err := p.flush(ctx)
		wait := 2 * time.Second
		switch {
		case err != nil:
			wait = failing.NextBackOff()
			if ctx.Err() == nil {
				p.log.Warn(p.failing, "err", err, "in", wait)
			}
		case n > 0:
			failing.Reset()
			wait = 0
		default:
			failing.Reset()
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-time.After(wait):
		}
	}
}
