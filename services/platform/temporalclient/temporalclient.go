// Package temporalclient connects a process to the Temporal cluster its
// workflows run on: with the SDK's metrics in the process's registry, the
// request id carried into workflows and activities, and tracing when it is
// switched on.
package temporalclient

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/tracing"
)

// Options builds the client options for the configured cluster. Workers
// made from the client inherit its interceptors: activities log the
// request id that started or moved their workflow.
func Options(t config.Temporal, log *slog.Logger) (client.Options, error) {
	handler, err := metrics.Default().TemporalHandler()
	if err != nil {
		return client.Options{}, err
	}
	interceptors := []interceptor.ClientInterceptor{&activityLogging{log: log.With("component", "activity")}}
	if tracing.Enabled() {
		ti, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
		if err != nil {
			return client.Options{}, fmt.Errorf("temporal tracing: %w", err)
		}
		interceptors = append(interceptors, ti)
	}
	return client.Options{
		HostPort:           t.Address,
		Namespace:          t.Namespace,
		Logger:             tlog.NewStructuredLogger(log.With("component", "temporal")),
		MetricsHandler:     handler,
		ContextPropagators: []workflow.ContextPropagator{requestIDPropagator{}},
		Interceptors:       interceptors,
	}, nil
}

// Lazy returns a client that connects on first use, so a service that only
// starts workflows comes up even while Temporal restarts.
func Lazy(t config.Temporal, log *slog.Logger) (client.Client, error) {
	opts, err := Options(t, log)
	if err != nil {
		return nil, err
	}
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS %s: %w", t.Address, err)
	}
	return c, nil
}

// Dial connects now, retrying until the cluster answers or wait has passed.
func Dial(ctx context.Context, t config.Temporal, log *slog.Logger, wait time.Duration) (client.Client, error) {
	opts, err := Options(t, log)
	if err != nil {
		return nil, err
	}
	c, err := backoff.Retry(ctx, func() (client.Client, error) {
		return client.DialContext(ctx, opts)
	}, backoff.WithBackOff(backoff.NewConstantBackOff(500*time.Millisecond)), backoff.WithMaxElapsedTime(wait))
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS %s (namespace %s) does not answer: %w", t.Address, t.Namespace, err)
	}
	return c, nil
}
