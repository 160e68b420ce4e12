package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/prodlocal"
)

// Topology brings up the stack a run measures and takes it down again.
type Topology interface {
	Start(ctx context.Context, cfg localstack.Config, out io.Writer) (*localstack.Stack, error)
	// PIDs are the stack's processes, and those it runs on (a Temporal
	// server), for the memory and CPU figures.
	PIDs() map[string]int
	Stop()
}

// Embedded is make dev's stack: the Temporal dev server on SQLite and the
// services on SQLite, or on PostgreSQL with CRM_DATABASE_URL.
type Embedded struct{ stack *localstack.Stack }

func (e *Embedded) Start(ctx context.Context, cfg localstack.Config, out io.Writer) (s *localstack.Stack, err error) {
	// the production topology says its own steps, its data elsewhere
	fmt.Fprintf(out, "starting the stack (data in %s)…\n", cfg.DataDir)
	e.stack, err = localstack.Start(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	return e.stack, err
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

func (p *Production) Start(ctx context.Context, cfg localstack.Config, out io.Writer) (_ *localstack.Stack, err error) {
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
