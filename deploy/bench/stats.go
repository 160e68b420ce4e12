// Package bench measures the product as users run it — REST with
// authentication on, through the gateway, the task service, the workflow
// update and its read model — beside bare Temporal loops measured on the
// same server in the same run, and prints the ratios.
package bench

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Sample is one measured series.
type Sample struct {
	Name   string
	mu     sync.Mutex
	lat    []time.Duration
	errors int
	// firstErr is the first error, told under the table.
	firstErr error
	elapsed  time.Duration
}

func (s *Sample) add(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.errors == 0 {
			s.firstErr = err
		}
		s.errors++
		return
	}
	s.lat = append(s.lat, d)
}

// Rate is operations per second over the measured wall time.
func (s *Sample) Rate() float64 {
	if s.elapsed == 0 {
		return 0
	}
	return float64(len(s.lat)) / s.elapsed.Seconds()
}

// Quantile returns the q-th latency (0 < q ≤ 1).
func (s *Sample) Quantile(q float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	sorted := slices.Clone(s.lat)
	slices.Sort(sorted)
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Report prints a table of samples and each one's ratio to its baseline.
func Report(w io.Writer, rows []Row) {
	fmt.Fprintf(w, "%-44s %8s %10s %10s %10s %7s  %s\n", "measure", "ops", "ops/s", "p50", "p99", "errors", "vs baseline")
	for _, r := range rows {
		s := r.Sample
		ratio := ""
		if r.Baseline != nil && r.Baseline.Rate() > 0 {
			ratio = fmt.Sprintf("%.2f× rate of %q, p50 %.2f×", s.Rate()/r.Baseline.Rate(), r.Baseline.Name,
				float64(s.Quantile(0.5))/float64(max(1, r.Baseline.Quantile(0.5))))
		}
		fmt.Fprintf(w, "%-44s %8d %10.1f %10s %10s %7d  %s\n", s.Name, len(s.lat), s.Rate(), ms(s.Quantile(0.5)), ms(s.Quantile(0.99)), s.errors, ratio)
	}
	for _, r := range rows {
		if err := r.Sample.firstErr; err != nil {
			fmt.Fprintf(w, "first error of %q: %.300s\n", r.Sample.Name, err)
		}
	}
}

// Row is a sample and the baseline it is compared with.
type Row struct {
	Sample   *Sample
	Baseline *Sample
}

// run drives ops from clients workers until each has done its share, and
// records the wall time.
func run(name string, clients, total int, op func(client, i int) error) *Sample {
	s := &Sample{Name: name}
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < total; i += clients {
				t := time.Now()
				err := op(c, i)
				s.add(time.Since(t), err)
			}
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	return s
}
