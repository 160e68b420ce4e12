package bench

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// forEach calls f for 0…n-1 from workers goroutines at most, and stops at
// the first error (or when ctx ends), which it returns.
func forEach(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return f(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
