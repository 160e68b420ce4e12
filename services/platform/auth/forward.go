package auth

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// serviceTokenTTL bounds how long a service's own signed identity lives; a
// fresh one is signed per call, so it only has to outlast the call.
const serviceTokenTTL = 5 * time.Minute

// Forwarder attaches the caller to outgoing calls: the principal of the
// request being served when there is one, else the service's own identity.
type Forwarder struct {
	keys    *Keyring
	service string
}

// NewForwarder returns a forwarder that speaks as service when no user is
// behind a call.
func NewForwarder(keys *Keyring, service string) *Forwarder {
	return &Forwarder{keys: keys, service: service}
}

// Outgoing returns ctx with the principal header set.
func (f *Forwarder) Outgoing(ctx context.Context) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get(Header)) > 0 {
		return ctx
	}
	token := tokenFrom(ctx)
	if token == "" {
		token = f.keys.Sign(Principal{Service: f.service}, serviceTokenTTL)
	}
	return metadata.AppendToOutgoingContext(ctx, Header, token)
}

// AsUser returns ctx carrying p as the caller of outgoing calls, signed
// afresh (a workflow acting for the user who pressed a button).
func (f *Forwarder) AsUser(ctx context.Context, p Principal) context.Context {
	return WithPrincipal(ctx, &p, f.keys.Sign(p, serviceTokenTTL))
}

// UnaryClientInterceptor forwards the caller on unary calls.
func (f *Forwarder) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(f.Outgoing(ctx), method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor forwards the caller on streaming calls.
func (f *Forwarder) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(f.Outgoing(ctx), desc, cc, method, opts...)
	}
}
