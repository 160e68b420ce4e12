// Package grpcclient opens the connections one service keeps to another:
// one per backend, forwarding the caller and the request id on every call.
package grpcclient

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/requestid"
)

// Dial returns a lazily connecting client for target (host:port or
// unix:/path). Services talk inside one trust zone; the principal they
// forward is signed, so the channel needs no TLS of its own here.
func Dial(target string, fwd *auth.Forwarder, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(requestid.UnaryClientInterceptor(), fwd.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(fwd.StreamClientInterceptor()),
	}, extra...)
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("grpc client for %s: %w", target, err)
	}
	return conn, nil
}
