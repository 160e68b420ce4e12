package auth

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Forwarder signs the caller into each outgoing call, afresh for the
// service called (its audience) and for TokenTTL: the user of the request
// being served, else the process's own service identity. A service's
// identity is never passed on: a service calling on behalf of another
// service speaks as itself, so the callee can hold the name against the
// certificate of the connection.
type Forwarder struct {
	keys    *Keyring
	service string
	// relay: with no user behind a call it goes out anonymous instead
	// of as the service.
	relay bool
}

// NewForwarder returns a forwarder that speaks as service when no user is
// behind a call.
func NewForwarder(keys *Keyring, service string) *Forwarder {
	return &Forwarder{keys: keys, service: service}
}

// NewRelay returns a forwarder that passes on only the user of the request
// being served: a call without one goes out anonymous. The gateway proxies
// with it, so a signed-out client never speaks with a service's identity.
func NewRelay(keys *Keyring) *Forwarder {
	return &Forwarder{keys: keys, relay: true}
}

// outgoing returns ctx with the principal header set for a call to
// method. A header already set (a test's forged token) is left alone.
func (f *Forwarder) outgoing(ctx context.Context, method string) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get(Header)) > 0 {
		return ctx
	}
	var p Principal
	c, _ := ctx.Value(ctxKey{}).(carried)
	switch {
	case c.p != nil && c.forward && !c.p.IsService():
		p = *c.p
	case f.relay:
		return ctx
	default:
		p = Principal{Service: f.service}
	}
	return metadata.AppendToOutgoingContext(ctx, Header, f.keys.Sign(p, Audience(method), TokenTTL))
}

// AsUser returns ctx carrying p as the caller of outgoing calls (a
// workflow acting for the user who pressed a button).
func (f *Forwarder) AsUser(ctx context.Context, p Principal) context.Context {
	return WithPrincipal(ctx, &p, true)
}

// UnaryClientInterceptor forwards the caller on unary calls.
func (f *Forwarder) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(f.outgoing(ctx, method), method, req, reply, cc, opts...)
	}
}

// StreamClientInterceptor forwards the caller on streaming calls.
func (f *Forwarder) StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(f.outgoing(ctx, method), desc, cc, method, opts...)
	}
}
