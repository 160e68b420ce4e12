// Package grpcclient opens the connections one service keeps to another:
// one per backend, forwarding the caller and the request id on every call,
// timed and counted in the process's metrics (and traced when tracing is on).
package grpcclient

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/requestid"
	"github.com/telecomcrm/crm/services/platform/tracing"
)

// Dial returns a lazily connecting client for target (host:port or
// unix:/path). Services talk inside one trust zone; the principal they
// forward is signed, so the channel needs no TLS of its own here.
//
// With a forwarder, calls carry the caller of the request being served, or
// the service's own identity. Without one (nil), calls carry only what the
// context's outgoing metadata holds: the gateway's proxy connections, which
// must never speak with a service's identity for an anonymous client.
func Dial(target string, fwd *auth.Forwarder, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	m := metrics.Default().GRPCClient
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// A target that resolves to several replicas (dns:///name:port on
		// a headless service) gets its calls spread over all of them.
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
	}
	if fwd != nil {
		opts = append(opts,
			grpc.WithChainUnaryInterceptor(m.UnaryClientInterceptor(), requestid.UnaryClientInterceptor(), fwd.UnaryClientInterceptor()),
			grpc.WithChainStreamInterceptor(m.StreamClientInterceptor(), fwd.StreamClientInterceptor()))
	} else {
		opts = append(opts, grpc.WithChainUnaryInterceptor(m.UnaryClientInterceptor(), requestid.UnaryClientInterceptor()))
	}
	opts = append(opts, tracing.DialOptions()...)
	opts = append(opts, extra...)
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("grpc client for %s: %w", target, err)
	}
	return conn, nil
}
