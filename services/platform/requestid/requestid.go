// Package requestid follows one request through the gateway, the services
// and the activities they run, so its log lines can be found together.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Header is both the HTTP header and the gRPC metadata key.
const Header = "x-request-id"

type ctxKey struct{}

// New returns a fresh random id.
func New() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// With stores an id in the context.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the request's id, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// fromIncoming takes the id the caller sent, or makes one; ids longer than
// 64 bytes are not trusted.
func fromIncoming(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(Header); len(v) == 1 && v[0] != "" && len(v[0]) <= 64 {
		return v[0]
	}
	return New()
}

// UnaryServerInterceptor puts the caller's request id (or a new one) in the
// context.
func UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(With(ctx, fromIncoming(ctx)), req)
	}
}

// UnaryClientInterceptor sends the current request id along, unless the
// call's metadata carries one already (the gateway sets it): two values
// would make the callee distrust both and start a new id.
func UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get(Header)) > 0 {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		if id := From(ctx); id != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, Header, id)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
