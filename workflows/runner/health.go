package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/pollwatch"
)

// Base is the part of the configuration process.Main observes the worker
// by: the shared settings without the metrics address, because the worker
// serves /metrics itself, beside /healthz (serveHealth).
func (c *Config) Base() *config.Common {
	b := c.Common
	b.MetricsAddr = ""
	return &b
}

// serveHealth starts watching the pollers and, when CRM_METRICS_ADDR is
// set, serves GET /metrics and GET /healthz there until stop is called.
// It starts before Temporal is dialled, so a worker that never reaches
// Temporal is reported stuck too.
func serveHealth(ctx context.Context, cfg Config, log *slog.Logger) (watch *pollwatch.Watch, stop func(), err error) {
	watch, err = pollwatch.New(cfg.PollStaleAfter, time.Now)
	if err != nil {
		return nil, nil, fmt.Errorf("CRM_WORKER_POLL_STALE_AFTER: %w", err)
	}
	if cfg.MetricsAddr == "" {
		return watch, func() {}, nil
	}
	lis, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("CRM_METRICS_ADDR %s cannot be used: %w", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	metrics.Mount(mux, metrics.Default().Handler(), cfg.Pprof)
	mux.Handle("GET /healthz", watch)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			log.Warn("serving metrics and health failed", "err", err)
		}
	}()
	return watch, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// watched is a client on tc's connection whose metrics handler also
// reports to watch: a worker made from it tells watch of every poll that
// comes back.
func watched(tc client.Client, cfg Config, watch *pollwatch.Watch, log *slog.Logger) (client.Client, error) {
	opts, err := temporalclient.Options(cfg.Temporal, log)
	if err != nil {
		return nil, err
	}
	opts.MetricsHandler = watch.Handler(opts.MetricsHandler)
	c, err := client.NewClientFromExistingWithContext(context.Background(), tc, opts)
	if err != nil {
		return nil, fmt.Errorf("the worker's Temporal client: %w", err)
	}
	return c, nil
}
