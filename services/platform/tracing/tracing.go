// Package tracing switches OpenTelemetry tracing on when CRM_OTEL_ENDPOINT
// names an OTLP/gRPC collector: spans of gRPC calls (server and client),
// of the gateway's HTTP requests and of Temporal workflows and activities,
// joined into one trace per request. Unset, nothing is recorded and the
// instrumentation is left out.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc"
)

// Start installs the process's tracer provider, exporting to endpoint
// (host:port, plain; or an http:// or https:// URL) as service. The
// returned function flushes what is buffered; call it on the way out.
// Sampling follows OTEL_TRACES_SAMPLER (default: every trace a caller
// began, and every new one).
func Start(ctx context.Context, service, endpoint string) (func(context.Context) error, error) {
	endpoint = strings.TrimSpace(endpoint)
	opt := otlptracegrpc.WithEndpoint(endpoint)
	if strings.Contains(endpoint, "://") {
		opt = otlptracegrpc.WithEndpointURL(endpoint)
	}
	opts := []otlptracegrpc.Option{opt}
	if !strings.HasPrefix(endpoint, "https://") {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	exp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("CRM_OTEL_ENDPOINT %s: %w", endpoint, err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("crm-"+service)))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}

// Enabled tells whether Start installed a tracer provider in this process.
func Enabled() bool {
	_, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider)
	return ok
}

// ServerOptions are the gRPC server options that trace incoming calls;
// none when tracing is off.
func ServerOptions() []grpc.ServerOption {
	if !Enabled() {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler())}
}

// DialOptions are the gRPC client options that trace outgoing calls and
// carry the trace to the callee; none when tracing is off.
func DialOptions() []grpc.DialOption {
	if !Enabled() {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler())}
}

// HTTP wraps an HTTP handler so each request is a span (the trace a
// caller began, or a new one); next unchanged when tracing is off.
func HTTP(operation string, next http.Handler) http.Handler {
	if !Enabled() {
		return next
	}
	return otelhttp.NewHandler(next, operation)
}
