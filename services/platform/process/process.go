// Package process is the shape every main shares: load the configuration,
// build the logger, run until SIGINT or SIGTERM, and report a failure as one
// line on stderr with a non-zero exit.
package process

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/logging"
)

// Main runs a deployable named name. run gets a context that ends on a stop
// signal, the loaded configuration and a logger.
func Main[T any](name string, run func(ctx context.Context, cfg T, log *slog.Logger) error) {
	cfg, err := config.Load[T]()
	if err != nil {
		fail(name, err)
	}
	level, format := slog.LevelInfo, "text"
	if c, ok := any(&cfg).(interface{ Base() *config.Common }); ok {
		level, format = c.Base().LogLevel, c.Base().LogFormat
	}
	log := logging.New(os.Stderr, level, format).With("service", name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil && ctx.Err() == nil {
		fail(name, err)
	}
}

func fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}
