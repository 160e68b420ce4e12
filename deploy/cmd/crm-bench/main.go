// Command crm-bench starts a private local stack and measures process
// transitions through the product beside bare Temporal loops on the same
// server (make bench).
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/telecomcrm/crm/deploy/bench"
	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() {
	var opt bench.Options
	flag.IntVar(&opt.Clients, "clients", 8, "concurrent clients of the throughput runs")
	flag.IntVar(&opt.Tasks, "tasks", 40, "tasks walked along the route in the throughput runs (a multiple of -clients)")
	flag.IntVar(&opt.LatencyTasks, "latency-tasks", 10, "tasks walked by one client for latency")
	flag.Parse()
	opt.AdminPassword = os.Getenv("CRM_ADMIN_PASSWORD")
	process.Main("crm-bench", func(ctx context.Context, cfg localstack.Config, _ *slog.Logger) error {
		return bench.Run(ctx, cfg, opt, os.Stdout)
	})
}
