// Package grpcserver is the one gRPC server bootstrap every service uses:
// request ids, metrics, panic recovery, logging, the access guard, the
// requests' declared limits (protovalidate) and the mapping of domain
// errors to google.rpc.Status, the standard health
// service, tracing when it is on, and a graceful stop when the context ends.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"buf.build/go/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/fault"
	crmlog "github.com/telecomcrm/crm/services/platform/logging"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/mtls"
	"github.com/telecomcrm/crm/services/platform/requestid"
	"github.com/telecomcrm/crm/services/platform/tracing"
)

// Server is a gRPC server with the standard health service.
type Server struct {
	*grpc.Server
	health *health.Server
	log    *slog.Logger
}

// New builds a server whose calls pass the guard. Register the service
// implementations on it, then Serve.
func New(log *slog.Logger, guard *auth.Guard, extra ...grpc.ServerOption) *Server {
	m := metrics.Default().GRPCServer
	opts := append([]grpc.ServerOption{
		grpc.ChainUnaryInterceptor(
			requestid.UnaryServerInterceptor(),
			// Outside recovery and the fault mapping: it counts the codes
			// callers get.
			m.UnaryServerInterceptor(),
			recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
				log.ErrorContext(ctx, "panic in handler", "panic", p, "request_id", requestid.From(ctx))
				return status.Error(codes.Internal, "internal error")
			})),
			logging.UnaryServerInterceptor(slogAdapter(log), logging.WithFieldsFromContext(func(ctx context.Context) logging.Fields {
				return logging.Fields{"request_id", requestid.From(ctx)}
			}), logging.WithLogOnEvents(logging.FinishCall), logging.WithLevels(levels)),
			guard.UnaryServerInterceptor(),
			faultInterceptor(log),
			ValidateInterceptor(protovalidate.GlobalValidator),
		),
		grpc.ChainStreamInterceptor(m.StreamServerInterceptor(), guard.StreamServerInterceptor(), faultStreamInterceptor(log)),
	}, tracing.ServerOptions()...)
	opts = append(opts, extra...)
	s := &Server{Server: grpc.NewServer(opts...), health: health.NewServer(), log: log}
	healthpb.RegisterHealthServer(s.Server, s.health)
	return s
}

// TLS returns the options that make a server speak mutual TLS with id's
// certificate (none for a nil id: plaintext). A certificate is checked
// when a connection opens, so connections are closed gracefully after an
// hour: the client reconnects, and both sides' renewed certificates are
// presented and checked again.
func TLS(id *mtls.Identity) []grpc.ServerOption {
	if id == nil {
		return nil
	}
	return []grpc.ServerOption{
		grpc.Creds(id.ServerCredentials()),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: time.Hour, MaxConnectionAgeGrace: 5 * time.Minute}),
	}
}

// levels logs client mistakes at debug and failures at error, so a normal
// day's log holds what needs a look.
func levels(code codes.Code) logging.Level {
	switch code {
	case codes.OK, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.Aborted,
		codes.FailedPrecondition, codes.PermissionDenied, codes.Unauthenticated, codes.Canceled:
		return logging.LevelDebug
	case codes.DeadlineExceeded, codes.Unavailable, codes.ResourceExhausted:
		return logging.LevelWarn
	}
	return logging.LevelError
}

func faultInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(crmlog.With(ctx, log.With("request_id", requestid.From(ctx))), req)
		if err == nil {
			return resp, nil
		}
		st, unexpected := fault.Status(err)
		if unexpected {
			log.ErrorContext(ctx, "request failed", "method", info.FullMethod, "request_id", requestid.From(ctx), "err", err)
		}
		return nil, st
	}
}

// faultStreamInterceptor answers a streaming call's error as the unary
// calls' are answered.
func faultStreamInterceptor(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		if err == nil {
			return nil
		}
		st, unexpected := fault.Status(err)
		if unexpected {
			ctx := ss.Context()
			log.ErrorContext(ctx, "request failed", "method", info.FullMethod, "request_id", requestid.From(ctx), "err", err)
		}
		return st
	}
}

func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// Listen opens addr: host:port, or unix:/path for a socket (a stale socket
// file of an earlier run is removed first).
func Listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		path = strings.TrimPrefix(path, "//")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := removeStaleSocket(path); err != nil {
			return nil, err
		}
		return net.Listen("unix", path)
	}
	return net.Listen("tcp", addr)
}

// removeStaleSocket removes a socket file nobody answers on; one that
// answers belongs to a running process, and listening would steal it.
func removeStaleSocket(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("%s is in use by a running process", path)
	}
	return os.Remove(path)
}

// Serve listens on addr and serves until ctx ends, then stops gracefully
// (in-flight calls finish; after 10 s they are cut).
func (s *Server) Serve(ctx context.Context, addr string) error {
	lis, err := Listen(addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.ServeListener(ctx, lis)
}

// ServeListener is Serve on an open listener (tests pass a loopback one).
func (s *Server) ServeListener(ctx context.Context, lis net.Listener) error {
	// Every method of the registered services shows in the metrics from
	// the start, at zero.
	metrics.Default().GRPCServer.InitializeMetrics(s.Server)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	done := make(chan error, 1)
	go func() { done <- s.Server.Serve(lis) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.health.Shutdown()
	stopped := make(chan struct{})
	go func() { s.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		s.Stop()
	}
	return nil
}
