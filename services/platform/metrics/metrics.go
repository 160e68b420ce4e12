// Package metrics is a process's Prometheus registry and its /metrics
// endpoint: gRPC server and client latency and codes, HTTP latency and
// status, and whatever a component adds (the notifier's queue; the
// Temporal SDK's figures, which package temporalclient records here, so
// that a service without workflows does not carry the SDK).
//
// A process has one /metrics, so the registry is the process's: Default
// returns it, and the bootstraps that instrument servers, clients and the
// Temporal client take their collectors from it. Everything in it only
// accumulates and is safe for concurrent use.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes the product's own metric names.
const Namespace = "crm"

// latencyBuckets (seconds) span a cached lookup to a slow workflow update.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics is one process's registry with the collectors the platform
// wires into every server and client.
type Metrics struct {
	// Registry holds every collector of the process; add a service's own
	// with Register.
	Registry *prometheus.Registry
	// GRPCServer and GRPCClient count and time gRPC calls by method and
	// code (grpc_server_handled_total, grpc_server_handling_seconds, and
	// the grpc_client_ twins).
	GRPCServer *grpcprom.ServerMetrics
	GRPCClient *grpcprom.ClientMetrics

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
}

// New returns a registry with the Go runtime and process collectors and
// the gRPC and HTTP collectors registered.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		GRPCServer: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets(latencyBuckets))),
		GRPCClient: grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets(latencyBuckets))),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by handler, method and status code.",
		}, []string{"handler", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by handler, method and status code.",
			Buckets: latencyBuckets,
		}, []string{"handler", "method", "code"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.GRPCServer, m.GRPCClient, m.httpRequests, m.httpDuration,
	)
	return m
}

// Default is the process's metrics, made on first use.
var Default = sync.OnceValue(New)

// Register adds collectors, or returns an error naming the one that
// clashes with a collector already there.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.Registry.Register(c); err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	return nil
}

// Unregister removes collectors a component added, when it stops.
func (m *Metrics) Unregister(cs ...prometheus.Collector) {
	for _, c := range cs {
		m.Registry.Unregister(c)
	}
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// InstrumentHTTP counts and times the requests next answers, labelled
// with handler (a small fixed set: "api", "console", …).
func (m *Metrics) InstrumentHTTP(handler string, next http.Handler) http.Handler {
	labels := prometheus.Labels{"handler": handler}
	return promhttp.InstrumentHandlerDuration(m.httpDuration.MustCurryWith(labels),
		promhttp.InstrumentHandlerCounter(m.httpRequests.MustCurryWith(labels), next))
}

// Serve answers GET /metrics on addr until ctx ends, and Go's profiles
// under /debug/pprof/ when pprof is set. A port already in use is
// reported at once, naming the setting.
func Serve(ctx context.Context, addr string, h http.Handler, pprof bool, log *slog.Logger) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("CRM_METRICS_ADDR %s cannot be used: %w", addr, err)
	}
	return ServeListener(ctx, lis, h, pprof, log)
}

// Mount answers GET /metrics on mux with h, and Go's profiles under
// /debug/pprof/ when pprof is set (CRM_PPROF).
func Mount(mux *http.ServeMux, h http.Handler, pprof bool) {
	mux.Handle("GET /metrics", h)
	if pprof {
		mux.HandleFunc("GET /debug/pprof/", httppprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", httppprof.Profile)
	}
}

// ServeListener is Serve on an open listener.
func ServeListener(ctx context.Context, lis net.Listener, h http.Handler, pprof bool, log *slog.Logger) error {
	mux := http.NewServeMux()
	Mount(mux, h, pprof)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	log.Debug("serving metrics", "addr", lis.Addr().String())
	select {
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
