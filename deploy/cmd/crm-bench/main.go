// Command crm-bench starts a private local stack and measures it (make
// bench, make load): process transitions through the product beside bare
// Temporal loops on the same server; or, on PostgreSQL, a seeded database
// read through REST at a steady rate beside the bare SQL, onboarding, a
// mixed load, and the stack's idle memory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/telecomcrm/crm/deploy/bench"
	"github.com/telecomcrm/crm/deploy/composestack"
	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/prodlocal"
	"github.com/telecomcrm/crm/deploy/stacktest"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/process"
)

func main() {
	mode := flag.String("mode", "transitions", "transitions or load")
	topology := flag.String("topology", "embedded", "embedded (the Temporal dev server, as make dev); production (a Temporal server on PostgreSQL, the services on PostgreSQL, mutual TLS, as make prod-test; CRM_LOCAL_WORKERS and CRM_LOCAL_TASK_REPLICAS scale it); or compose (make compose-up's containers, transitions only; CRM_LOCAL_WORKERS 1 or 2)")
	var opt bench.Options
	flag.IntVar(&opt.Clients, "clients", 8, "transitions: concurrent clients of the throughput runs")
	flag.IntVar(&opt.Tasks, "tasks", 40, "transitions: tasks walked along the route (a multiple of -clients)")
	flag.IntVar(&opt.LatencyTasks, "latency-tasks", 10, "transitions: tasks walked by one client for latency")
	flag.StringVar(&opt.Profiles, "pprof", "", "transitions: a folder for each component's CPU profile over 30 s of the throughput run")
	var lo bench.LoadOptions
	flag.IntVar(&lo.Customers, "customers", 1_000_000, "load: customers seeded through the customer service (two phones each)")
	flag.IntVar(&lo.OpenTasks, "open-tasks", 10_000, "load: service tasks opened through REST (running workflows)")
	flag.IntVar(&lo.BurstTasks, "burst-tasks", 10_000, "load: connection tasks an import opens while onboarding and reads are measured (0: no burst phase)")
	flag.IntVar(&lo.ClosedTasks, "closed-tasks", 990_000, "load: closed tasks bulk-loaded as read-model rows")
	flag.IntVar(&lo.Rate, "rate", 500, "load: requests per second of each read phase")
	flag.IntVar(&lo.MixRate, "mix-rate", 200, "load: requests per second of the mixed load (a fifth of them comments and advances, each a workflow update)")
	flag.DurationVar(&lo.Phase, "phase", 20*time.Second, "load: length of each measured phase")
	flag.IntVar(&lo.SeedWorkers, "seed-workers", 16, "load: parallel seeding calls")
	admin := flag.String("postgres", "", "load: a PostgreSQL admin URL to make a throwaway database on (unless CRM_DATABASE_URL is set)")
	flag.Parse()
	opt.AdminPassword = os.Getenv("CRM_ADMIN_PASSWORD")
	lo.AdminPassword = opt.AdminPassword
	process.Main("crm-bench", func(ctx context.Context, cfg localstack.Config, _ *slog.Logger) error {
		var top bench.Topology
		switch *topology {
		case "embedded":
		case "production":
			prod, err := config.Load[prodlocal.Config]()
			if err != nil {
				return err
			}
			top = &bench.Production{Config: prod, AdminPassword: opt.AdminPassword}
		case "compose":
			if *mode != "transitions" {
				return errors.New("-topology compose measures transitions: the load run seeds the services through gRPC on the embedded and production topologies")
			}
			var err error
			if top, err = composeTopology(opt.AdminPassword); err != nil {
				return err
			}
		default:
			return fmt.Errorf("-topology is embedded, production or compose, not %q", *topology)
		}
		switch *mode {
		case "transitions":
			opt.Topology = top
			return bench.Run(ctx, cfg, opt, os.Stdout)
		case "load":
			lo.Topology = top
			if top == nil && cfg.DatabaseURL == "" && *admin != "" {
				url, drop, err := database.Throwaway(ctx, *admin, "crm_load")
				if err != nil {
					return err
				}
				defer drop()
				cfg.DatabaseURL = url
				os.Setenv("CRM_DATABASE_URL", url) // the stack's processes read it too
			}
			return bench.RunLoad(ctx, cfg, lo, os.Stdout)
		}
		return fmt.Errorf("-mode is transitions or load, not %q", *mode)
	})
}

// composeTopology is the compose stack of make compose-up under a project
// of its own (crm-bench), its secrets and certificates made afresh in
// .build/compose-bench, the first admin's password the run's.
func composeTopology(adminPassword string) (*bench.Compose, error) {
	if os.Getenv("CRM_VERSION") == "" {
		return nil, errors.New("-topology compose: set CRM_VERSION, the image tag make images built (make bench-compose does)")
	}
	root := stacktest.Root()
	work := filepath.Join(root, ".build", "compose-bench")
	if err := os.RemoveAll(work); err != nil {
		return nil, err
	}
	cfg, err := composestack.Prepare(root, "crm-bench", work)
	if err != nil {
		return nil, err
	}
	cfg.Env["CRM_ADMIN_PASSWORD"] = adminPassword
	return &bench.Compose{Config: cfg}, nil
}
