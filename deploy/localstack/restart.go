package localstack

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StopTemporal stops the dev server the stack started, as an operator's
// restart would: SIGTERM, then SIGKILL after grace (0: SIGKILL at once, a
// crash). The components keep running and keep trying to reach it.
func (s *Stack) StopTemporal(grace time.Duration) error {
	if s.temporal == nil {
		return errors.New("the stack runs on an external Temporal cluster; it cannot restart it")
	}
	s.temporalMu.Lock()
	s.restarting = true
	s.temporalMu.Unlock()
	if grace <= 0 {
		s.temporal.kill()
	} else {
		s.temporal.stop(grace)
	}
	return nil
}

// StartTemporal starts the dev server again after StopTemporal, on the same
// database file and ports, and waits until its namespace answers.
func (s *Stack) StartTemporal(ctx context.Context) error {
	if s.temporal == nil {
		return errors.New("the stack runs on an external Temporal cluster; it cannot restart it")
	}
	if s.temporal.running() {
		return errors.New("the Temporal dev server is running; stop it first")
	}
	// Its ports may take a moment to be free again.
	var err error
	for range 50 {
		if err = s.temporal.start(); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	if err := s.temporal.waitReady(ctx, 60*time.Second, func(ctx context.Context) error { return namespaceReady(ctx, s.cfg.Common) }); err != nil {
		return fmt.Errorf("the Temporal dev server did not start again: %w", err)
	}
	s.temporalMu.Lock()
	s.restarting = false
	s.temporalGen++
	gen := s.temporalGen
	s.temporalMu.Unlock()
	go s.watchTemporal(s.temporal.done(), gen)
	return nil
}

// RestartTemporal stops the dev server (SIGTERM, or SIGKILL when crash),
// leaves it down for down, and starts it again on the same history.
func (s *Stack) RestartTemporal(ctx context.Context, down time.Duration, crash bool) error {
	grace := 15 * time.Second
	if crash {
		grace = 0
	}
	if err := s.StopTemporal(grace); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return s.StartTemporal(ctx)
}

// watchTemporal closes Failed when the dev server ends on its own.
// A watcher of an earlier run (gen) of the dev server does nothing.
func (s *Stack) watchTemporal(done <-chan struct{}, gen int) {
	select {
	case <-done:
	case <-s.stopping:
		return
	}
	select {
	case <-s.stopping:
		return
	default:
	}
	s.temporalMu.Lock()
	current := !s.restarting && gen == s.temporalGen
	s.temporalMu.Unlock()
	if current {
		s.failOnce.Do(func() { close(s.temporalFailed) })
	}
}
