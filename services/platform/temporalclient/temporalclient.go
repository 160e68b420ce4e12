// Package temporalclient connects a process to the Temporal cluster its
// workflows run on.
package temporalclient

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/telecomcrm/crm/services/platform/config"
)

// Options builds the client options for the configured cluster.
func Options(t config.Temporal, log *slog.Logger) client.Options {
	return client.Options{
		HostPort:  t.Address,
		Namespace: t.Namespace,
		Logger:    tlog.NewStructuredLogger(log.With("component", "temporal")),
	}
}

// Lazy returns a client that connects on first use, so a service that only
// starts workflows comes up even while Temporal restarts.
func Lazy(t config.Temporal, log *slog.Logger) (client.Client, error) {
	c, err := client.NewLazyClient(Options(t, log))
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS %s: %w", t.Address, err)
	}
	return c, nil
}

// Dial connects now, retrying until the cluster answers or wait has passed.
func Dial(ctx context.Context, t config.Temporal, log *slog.Logger, wait time.Duration) (client.Client, error) {
	deadline := time.Now().Add(wait)
	for {
		c, err := client.DialContext(ctx, Options(t, log))
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("TEMPORAL_ADDRESS %s (namespace %s) does not answer: %w", t.Address, t.Namespace, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}
