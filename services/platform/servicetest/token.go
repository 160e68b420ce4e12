package servicetest

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/telecomcrm/crm/services/platform/auth"
)

type asKey struct{}

// as makes the calls of ctx over the suite's connections speak as p.
func as(ctx context.Context, p auth.Principal) context.Context {
	return context.WithValue(ctx, asKey{}, p)
}

// sign puts the principal of ctx (User, Service) on a call to method,
// signed for the service the call reaches, as a service's forwarder signs
// its callers. A header already set (a test's forged token) stays.
func sign(ctx context.Context, method string) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get(auth.Header)) > 0 {
		return ctx
	}
	p, ok := ctx.Value(asKey{}).(auth.Principal)
	if !ok {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, auth.Header, keys.Sign(p, auth.Audience(method), time.Hour))
}

// signing are the dial options that sign, outermost, so a service's own
// forwarder (DialAs) passes the test's principal on.
func signing() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(sign(ctx, method), method, req, reply, cc, opts...)
		}),
		grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(sign(ctx, method), desc, cc, method, opts...)
		}),
	}
}
