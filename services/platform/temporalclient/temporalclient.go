// Package temporalclient connects a process to the Temporal cluster its
// workflows run on: over mutual TLS when the process has a certificate,
// with the SDK's metrics in the process's registry, the request id carried
// into workflows and activities, and tracing when it is switched on.
package temporalclient

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/mtls"
	"github.com/telecomcrm/crm/services/platform/tracing"
)

// Options builds the client options for the configured cluster. Workers
// made from the client inherit its interceptors: activities log the
// request id that started or moved their workflow.
func Options(t config.Temporal, log *slog.Logger) (client.Options, error) {
	handler, err := processMetrics()
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
	conn, err := Connection(t, log)
	if err != nil {
		return client.Options{}, err
	}
	return client.Options{
		HostPort:           t.Address,
		Namespace:          t.Namespace,
		Logger:             tlog.NewStructuredLogger(log.With("component", "temporal")),
		MetricsHandler:     handler,
		ContextPropagators: []workflow.ContextPropagator{requestIDPropagator{}},
		Interceptors:       interceptors,
		ConnectionOptions:  conn,
	}, nil
}

// Connection is how the client reaches the frontend: mutual TLS with the
// process's certificate when t.TLS is set (the frontend's certificate
// checked against the CA and TEMPORAL_TLS_SERVER_NAME, by default the host
// of TEMPORAL_ADDRESS), else plaintext.
//
// Calls are not compressed (the SDK gzips them unless told): the frontend
// is a hop on the deployment's own network, the messages are small, and
// gzip cost CPU at both ends — the Temporal server answers in kind, and it
// is the busiest process of a stack (docs/BENCHMARKS.md).
func Connection(t config.Temporal, log *slog.Logger) (client.ConnectionOptions, error) {
	opts := client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}}
	id, err := mtls.Load(t.TLS, log)
	if err != nil {
		return client.ConnectionOptions{}, err
	}
	if id == nil {
		return opts, nil
	}
	name := t.TLSServerName
	if name == "" {
		host, _, err := net.SplitHostPort(t.Address)
		if err != nil {
			return client.ConnectionOptions{}, fmt.Errorf("TEMPORAL_ADDRESS %s: %w", t.Address, err)
		}
		name = host
	}
	// Credentials of our own rather than ConnectionOptions.TLS, so the
	// certificate files are read again when they are renewed.
	opts.DialOptions = []grpc.DialOption{grpc.WithTransportCredentials(id.ClientCredentials(name))}
	return opts, nil
}

// Silent is a logger for the SDK that says nothing: for the clients of
// tools and checks, whose own output says what matters.
func Silent() tlog.Logger { return tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)) }

// DialQuietly connects a tool (a stack's checks, a benchmark, a drill) to
// t's namespace as Connection reaches the frontend, without the
// services' metrics and interceptors, and with the SDK silent.
func DialQuietly(ctx context.Context, t config.Temporal) (client.Client, error) {
	conn, err := Connection(t, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, client.Options{HostPort: t.Address, Namespace: t.Namespace, Logger: Silent(), ConnectionOptions: conn})
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
