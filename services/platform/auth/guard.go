package auth

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	authv1 "github.com/telecomcrm/crm/proto/gen/crm/auth/v1"
	"github.com/telecomcrm/crm/services/platform/mtls"
)

// Guard enforces the access rule each RPC declares with the
// (crm.auth.v1.access) method option.
type Guard struct {
	keys  *Keyring
	log   *slog.Logger
	rules sync.Map // full method name → *authv1.Access
}

// NewGuard returns a guard that trusts principals signed with keys for
// the service a call reaches, and logs the ones it refuses.
func NewGuard(keys *Keyring, log *slog.Logger) *Guard { return &Guard{keys: keys, log: log} }

// openServices need no rule: the standard health and reflection services.
var openServices = []string{"/grpc.health.v1.Health/", "/grpc.reflection."}

// Rule returns the access rule declared for a full method name
// ("/crm.customer.v1.CustomerService/GetCustomer"), or nil.
func Rule(fullMethod string) *authv1.Access {
	name := strings.ReplaceAll(strings.TrimPrefix(fullMethod, "/"), "/", ".")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil
	}
	rule, _ := proto.GetExtension(md.Options(), authv1.E_Access).(*authv1.Access)
	if rule == nil || (!rule.GetPublic() && !rule.GetAuthenticated() && !rule.GetInternal() && rule.GetPermission() == "") {
		return nil
	}
	return rule
}

func (g *Guard) rule(fullMethod string) *authv1.Access {
	if r, ok := g.rules.Load(fullMethod); ok {
		return r.(*authv1.Access)
	}
	r := Rule(fullMethod)
	if r != nil {
		g.rules.Store(fullMethod, r)
	}
	return r
}

// Check decides a call: it returns the context carrying the caller, or a
// status error (401 without a valid principal, 403 without the permission).
// It runs before the handler, so a refused call never reaches validation or
// a lookup.
func (g *Guard) Check(ctx context.Context, fullMethod string) (context.Context, error) {
	for _, open := range openServices {
		if strings.HasPrefix(fullMethod, open) {
			return ctx, nil
		}
	}
	rule := g.rule(fullMethod)
	if rule == nil {
		return nil, status.Errorf(codes.Unimplemented, "%s declares no access rule", fullMethod)
	}
	p, err := g.principal(ctx, fullMethod)
	if err != nil {
		return nil, err
	}
	if p != nil {
		ctx = WithPrincipal(ctx, p, true)
	}
	if rule.GetPublic() {
		return ctx, nil
	}
	if p == nil {
		return nil, status.Error(codes.Unauthenticated, "sign in first: the request carries no valid session")
	}
	if p.MustChangePassword && !rule.GetBeforePasswordChange() {
		return nil, errPasswordChangeRequired
	}
	switch {
	case rule.GetInternal():
		if !p.IsService() {
			return nil, status.Error(codes.PermissionDenied, "only services may call this")
		}
	case rule.GetAuthenticated():
	default:
		if !p.Can(rule.GetPermission()) {
			return nil, status.Errorf(codes.PermissionDenied, "you lack the permission %s", rule.GetPermission())
		}
	}
	return ctx, nil
}

// errPasswordChangeRequired refuses a user who must change their password
// before doing anything else; the console reads the reason and opens the
// form.
var errPasswordChangeRequired = func() error {
	st := status.New(codes.PermissionDenied, "change your password first: it was set for you and must be replaced by one only you know")
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: "PASSWORD_CHANGE_REQUIRED", Domain: "crm"}); err == nil {
		st = d
	}
	return st.Err()
}()

// principal returns the verified caller, or nil for an anonymous call or
// a token that does not verify (logged with the reason: the declared rule
// then refuses the call unless it is public). A service's principal
// arriving over a certificate of another component is refused outright.
func (g *Guard) principal(ctx context.Context, fullMethod string) (*Principal, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(Header)
	if len(vals) == 0 {
		return nil, nil
	}
	peer, tls := mtls.Peer(ctx)
	if len(vals) > 1 {
		g.log.WarnContext(ctx, "caller refused: more than one principal", "method", fullMethod, "peer", peer)
		return nil, nil
	}
	p, err := g.keys.Verify(vals[0], Audience(fullMethod))
	if err != nil {
		g.log.WarnContext(ctx, "caller refused", "method", fullMethod, "peer", peer, "reason", err)
		return nil, nil
	}
	if tls && p.IsService() && p.Service != peer {
		g.log.WarnContext(ctx, "caller refused: a service's principal over another component's certificate",
			"method", fullMethod, "claimed", p.Service, "certificate", peer)
		return nil, status.Errorf(codes.Unauthenticated, "the call speaks as service %s but its connection's certificate is %s's", p.Service, peer)
	}
	return p, nil
}

// UnaryServerInterceptor enforces the rules on unary calls.
func (g *Guard) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := g.Check(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor enforces the rules on streaming calls.
func (g *Guard) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := g.Check(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
	}
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }
