// Package process is the shape every main shares: load the configuration,
// build the logger, switch tracing on when it is configured, serve
// /metrics when CRM_METRICS_ADDR is set, run until SIGINT or SIGTERM, and
// report a failure as one line on stderr with a non-zero exit.
package process

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/logging"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/tracing"
)

// Main runs a deployable named name. run gets a context that ends on a stop
// signal, the loaded configuration and a logger.
func Main[T any](name string, run func(ctx context.Context, cfg T, log *slog.Logger) error) {
	cfg, err := config.Load[T]()
	if err != nil {
		fail(name, err)
	}
	common := &config.Common{LogLevel: slog.LevelInfo, LogFormat: "text"}
	if c, ok := any(&cfg).(interface{ Base() *config.Common }); ok {
		common = c.Base()
	}
	log := logging.New(os.Stderr, common.LogLevel, common.LogFormat).With("service", name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Observe(ctx, name, *common, log, func(ctx context.Context) error { return run(ctx, cfg, log) }); err != nil && ctx.Err() == nil {
		fail(name, err)
	}
}

// Observe runs run with the process's observability around it: tracing
// started before it (CRM_OTEL_ENDPOINT) and flushed after, and /metrics
// served beside it (CRM_METRICS_ADDR). A metrics address that cannot be
// used stops the start, like any other setting.
func Observe(ctx context.Context, name string, c config.Common, log *slog.Logger, run func(context.Context) error) error {
	if c.OTelEndpoint != "" {
		shutdown, err := tracing.Start(ctx, name, c.OTelEndpoint)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := shutdown(sctx); err != nil {
				log.Warn("flushing traces failed", "err", err)
			}
		}()
		log.Info("tracing on", "endpoint", c.OTelEndpoint)
	}
	if c.MetricsAddr == "" {
		return run(ctx)
	}
	lis, err := net.Listen("tcp", c.MetricsAddr)
	if err != nil {
		return fmt.Errorf("CRM_METRICS_ADDR %s cannot be used: %w", c.MetricsAddr, err)
	}
	sctx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- metrics.ServeListener(sctx, lis, metrics.Default().Handler(), c.Pprof, log) }()
	err = run(ctx)
	stopServing()
	if serr := <-served; serr != nil {
		log.Warn("serving metrics failed", "err", serr)
	}
	return err
}

func fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}
