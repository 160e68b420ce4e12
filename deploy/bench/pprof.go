package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/telecomcrm/crm/deploy/localstack"
)

// profileFirstPort is where the components' /metrics (and, with
// CRM_PPROF, /debug/pprof/) listen in a profiled run, one port each.
const profileFirstPort = 18590

// withProfiles has the stack's components serve Go's profiles beside
// /metrics, so a run can say where each process spends its CPU.
func withProfiles(cfg *localstack.Config) {
	if cfg.MetricsPort == 0 {
		cfg.MetricsPort = profileFirstPort
	}
	cfg.Env = append(cfg.Env, "CRM_PPROF=true")
}

// profileCPU takes a CPU profile of every component that serves one (all
// but the gateway, whose /metrics is on its public address) over the
// next span, into dir/<component>.pprof; wait returns once all are
// written.
func profileCPU(ctx context.Context, stack Target, dir string, span time.Duration) (wait func(out io.Writer)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lines []string
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	for name, metricsURL := range stack.MetricsURLs() {
		if name == "gateway" {
			continue
		}
		url := strings.TrimSuffix(metricsURL, "/metrics") + fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(span.Seconds()))
		path := filepath.Join(dir, name+".pprof")
		wg.Go(func() {
			if err := fetchTo(ctx, url, path); err != nil {
				say("  %-10s no profile: %v", name, err)
				return
			}
			say("  %-10s %s", name, path)
		})
	}
	return func(out io.Writer) {
		wg.Wait()
		fmt.Fprintf(out, "CPU profiles over %s of the REST throughput run (go tool pprof -top FILE):\n", span)
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
	}
}

func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
