package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/telecomcrm/crm/deploy/composestack"
	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/prodlocal"
)

// Target is a running stack as a run reaches it.
type Target interface {
	// ConsoleURL is where the gateway serves the console and REST.
	ConsoleURL() string
	// DialTemporal connects to the stack's Temporal namespace, where the
	// bare loops run beside the product's workflows.
	DialTemporal(ctx context.Context) (client.Client, error)
	// MetricsURLs are the components' /metrics, beside which they serve
	// /debug/pprof/ with CRM_PPROF.
	MetricsURLs() map[string]string
}

// Topology brings up the stack a run measures and takes it down again.
type Topology interface {
	Start(ctx context.Context, cfg localstack.Config, out io.Writer) (Target, error)
	// PIDs are the stack's processes, and those it runs on (a Temporal
	// server), for the memory and CPU figures.
	PIDs() map[string]int
	Stop()
}

// Embedded is make dev's stack: the Temporal dev server on SQLite and the
// services on SQLite, or on PostgreSQL with CRM_DATABASE_URL.
type Embedded struct{ stack *localstack.Stack }

func (e *Embedded) Start(ctx context.Context, cfg localstack.Config, out io.Writer) (_ Target, err error) {
	// the production topology says its own steps, its data elsewhere
	fmt.Fprintf(out, "starting the stack (data in %s)…\n", cfg.DataDir)
	if e.stack, err = localstack.Start(ctx, cfg, slog.New(slog.DiscardHandler), nil); err != nil {
		return nil, err
	}
	return e.stack, nil
}

func (e *Embedded) PIDs() map[string]int { return e.stack.PIDs() }
func (e *Embedded) Stop()                { e.stack.Stop() }

// Production is make prod-test's: a Temporal server on PostgreSQL, its
// schema and namespace set up as an operator does, the services on
// PostgreSQL, mutual TLS throughout; everything it made is dropped at
// Stop. The stack's replicas come from CRM_LOCAL_WORKERS and
// CRM_LOCAL_TASK_REPLICAS.
type Production struct {
	Config        prodlocal.Config
	AdminPassword string

	cluster *prodlocal.Cluster
	stack   *localstack.Stack
}

func (p *Production) Start(ctx context.Context, cfg localstack.Config, out io.Writer) (_ Target, err error) {
	log := slog.New(slog.DiscardHandler)
	if p.cluster, err = prodlocal.Up(ctx, p.Config, log, out); err != nil {
		return nil, err
	}
	product := prodlocal.Product{BinDir: cfg.BinDir, AdminPassword: p.AdminPassword, Env: cfg.Env}
	if err = p.cluster.Migrate(ctx, product); err == nil {
		p.stack, err = p.cluster.StartProduct(ctx, product, log, io.Discard)
	}
	if err != nil {
		p.cluster.Down(false)
		return nil, err
	}
	return p.stack, nil
}

func (p *Production) PIDs() map[string]int {
	out := p.stack.PIDs()
	maps.Copy(out, p.cluster.PIDs())
	return out
}

func (p *Production) Stop() {
	p.stack.Stop()
	p.cluster.Down(false)
}

// Compose is make compose-up's stack: the images make images built, run by
// docker compose on this host's network (PostgreSQL, the Temporal server
// on it, every service, mutual TLS). Its project is started afresh and
// removed with its volumes at Stop. The compose file runs two workers and
// one task service: cfg.Workers (CRM_LOCAL_WORKERS) 1 leaves the second
// worker out; task replicas are the production topology's to measure.
type Compose struct {
	Config composestack.Config

	stack *composestack.Stack
	pids  map[string]int
	// log has compose's output, up to the stack's removal.
	log *os.File
}

func (c *Compose) Start(ctx context.Context, cfg localstack.Config, out io.Writer) (_ Target, err error) {
	if cfg.Workers < 1 || cfg.Workers > 2 || cfg.TaskReplicas != 1 {
		return nil, fmt.Errorf("the compose stack runs one or two workers and one task service, not %d and %d (CRM_LOCAL_WORKERS, CRM_LOCAL_TASK_REPLICAS)", cfg.Workers, cfg.TaskReplicas)
	}
	// the run's settings (the fake Bot API, profiles) reach every service
	c.Config.Extra = map[string]string{"CRM_ADMIN_PASSWORD_CHANGE": "false"}
	for _, kv := range cfg.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			c.Config.Extra[k] = v
		}
	}
	if cfg.Workers == 1 {
		c.Config.Scale = map[string]int{"worker-2": 0}
	}
	if c.log, err = os.Create(filepath.Join(c.Config.WorkDir, "compose.log")); err != nil {
		return nil, err
	}
	if old, err := composestack.Attach(c.Config); err == nil {
		_ = old.Down(ctx, true, c.log) // what an interrupted run left
	}
	fmt.Fprintf(out, "starting the compose stack %s, %d worker(s) (images %s; its output in %s)…\n", c.Config.Project, cfg.Workers, c.Config.Env["CRM_VERSION"], c.log.Name())
	if c.stack, err = composestack.Up(ctx, c.Config, c.log); err == nil {
		c.pids, err = c.stack.PIDs(ctx)
	}
	if err != nil {
		if c.stack != nil {
			c.Stop()
		} else {
			c.log.Close()
		}
		return nil, err
	}
	return c.stack, nil
}

func (c *Compose) PIDs() map[string]int { return c.pids }

func (c *Compose) Stop() {
	_ = c.stack.Down(context.Background(), true, c.log)
	c.log.Close()
}
