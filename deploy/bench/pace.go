package bench

import (
	"context"
	"sync"
	"time"
)

// paced issues op at rate per second for d, open loop: each call starts at
// its scheduled moment whether or not earlier calls have answered, and its
// latency counts from that moment, so a stall shows up in the figures
// instead of slowing the load (no coordinated omission).
func paced(ctx context.Context, name string, rate int, d time.Duration, op func(i int) error) *Sample {
	s := &Sample{Name: name}
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	sem := make(chan struct{}, 512)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return s
			case <-time.After(wait):
			}
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := op(i)
			s.add(time.Since(due), err)
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	return s
}
