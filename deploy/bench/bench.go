package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/restclient"
	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
)

// Options size a run.
type Options struct {
	// Clients is the concurrency of the throughput runs.
	Clients int
	// Tasks is how many tasks the throughput run walks along the route
	// (each gives one transition per process); a multiple of Clients.
	Tasks int
	// LatencyTasks are walked by one client for the latency run.
	LatencyTasks  int
	AdminPassword string
	// Profiles, when set, is a folder for each component's CPU profile
	// over the REST throughput run.
	Profiles string
	// Topology is the stack measured; nil: Embedded.
	Topology Topology
}

// running is a stack as the measurements use it: the notifier pointed at a
// fake Bot API, the idle memory reported, the admin signed in and Support
// members' chats linked.
type running struct {
	top   Topology
	stack Target
	api   *restclient.Client
	tg    *botapifake.Server
}

func start(ctx context.Context, top Topology, cfg localstack.Config, adminPassword string, out io.Writer) (_ *running, err error) {
	if top == nil {
		top = &Embedded{}
	}
	tg, err := withTelegram(&cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tg.Close()
		}
	}()
	stack, err := top.Start(ctx, cfg, out)
	if err != nil {
		return nil, err
	}
	r := &running{top: top, stack: stack, tg: tg}
	defer func() {
		if err != nil {
			top.Stop()
		}
	}()
	if _, err := IdleMemory(out, top.PIDs(), 15*time.Second); err != nil {
		return nil, err
	}
	if r.api, err = restclient.Login(stack.ConsoleURL(), "admin", adminPassword); err != nil {
		return nil, err
	}
	if err := linkRecipients(r.api, tg); err != nil {
		return nil, fmt.Errorf("linking Telegram chats: %w", err)
	}
	return r, nil
}

func (r *running) stop() {
	r.top.Stop()
	r.tg.Close()
}

// Run starts the stack as configured, measures, and prints the report.
func Run(ctx context.Context, cfg localstack.Config, opt Options, out io.Writer) error {
	if opt.Profiles != "" {
		if err := os.MkdirAll(opt.Profiles, 0o755); err != nil {
			return err
		}
		withProfiles(&cfg)
	}
	r, err := start(ctx, opt.Topology, cfg, opt.AdminPassword, out)
	if err != nil {
		return err
	}
	defer r.stop()
	stack, api, tg := r.stack, r.api, r.tg
	w, err := prepare(api)
	if err != nil {
		return fmt.Errorf("preparing: %w", err)
	}
	tc, err := stack.DialTemporal(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()

	steps := benchRoute
	fmt.Fprintln(out, "measuring the bare Temporal loops…")
	bareLocal1, err := bareLoop(ctx, tc, "bare update → local activity, 1 client", true, opt.LatencyTasks, steps, 1)
	if err != nil {
		return err
	}
	bareLocalN, err := bareLoop(ctx, tc, fmt.Sprintf("bare update → local activity, %d clients", opt.Clients), true, opt.Tasks, steps, opt.Clients)
	if err != nil {
		return err
	}
	bareRegularN, err := bareLoop(ctx, tc, fmt.Sprintf("bare update → activity, %d clients", opt.Clients), false, opt.Tasks, steps, opt.Clients)
	if err != nil {
		return err
	}

	fmt.Fprintln(out, "measuring the product path (REST → gateway → task service → update → read model)…")
	_, one, err := w.openTasks("REST open task, 1 client", 1, opt.LatencyTasks)
	if err != nil {
		return err
	}
	rest1 := w.transitions("REST advance → next process, 1 client", 1, one)
	opened, many, err := w.openTasks(fmt.Sprintf("REST open task, %d clients", opt.Clients), opt.Clients, opt.Tasks)
	if err != nil {
		return err
	}
	meter := startCPU(r.top.PIDs())
	profiled := func(io.Writer) {}
	if opt.Profiles != "" {
		// the span a run of this size lasts at least: started with it
		profiled = profileCPU(ctx, stack, opt.Profiles, 30*time.Second)
	}
	restN := w.transitions(fmt.Sprintf("REST advance → next process, %d clients", opt.Clients), opt.Clients, many)
	use := meter.stop("the REST throughput run")

	fmt.Fprintf(out, "\n%s, %d cores\n", time.Now().UTC().Format(time.RFC3339), numCPU())
	Report(out, []Row{
		{Sample: bareLocal1}, {Sample: bareLocalN}, {Sample: bareRegularN, Baseline: bareLocalN},
		{Sample: rest1, Baseline: bareLocal1}, {Sample: restN, Baseline: bareLocalN},
		// No bare loop starts workflows: opening is compared build to build.
		{Sample: opened},
	})
	fmt.Fprintf(out, "\nP1 (≥ 100 transitions/s and ≥ 0.75× the bare local-activity loop): %.1f/s, %.2f×\n", restN.Rate(), restN.Rate()/bareLocalN.Rate())
	fmt.Fprintf(out, "P2 (advance → next process at 1 client: p50 ≤ 20 ms, p99 ≤ 100 ms): p50 %s, p99 %s\n\n", ms(rest1.Quantile(0.5)), ms(rest1.Quantile(0.99)))
	use.print(out)
	profiled(out)
	reportTelegram(out, tg)
	return nil
}
