package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

// identity answers who is behind an access token: the session cache in
// front of the identity service, or the service itself.
type identity interface {
	Authenticate(ctx context.Context, in *identityv1.AuthenticateRequest, opts ...grpc.CallOption) (*identityv1.AuthenticateResponse, error)
}

type authenticator struct {
	identity identity
	log      *slog.Logger
}

// signedIn tells whether the request's user was authenticated.
func signedIn(ctx context.Context) bool {
	_, ok := auth.From(ctx)
	return ok
}

// middleware resolves a bearer token to its user (from the session cache
// when the session was checked in the last seconds), whom the backend
// connections' relay then signs into each call for the service it reaches.
// A request without a valid
// session goes on anonymous: the backend's declared rule then answers 401
// unless the RPC is public (login). Only when the identity service cannot be
// asked is the request refused here, with 503, so a restart does not sign
// everyone out.
//
// The Authorization header goes no further: grpc-gateway would forward it
// as metadata whatever the header matcher says, and a backend is to trust
// the signed principal only.
func (a *authenticator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorization := r.Header.Get("Authorization")
		if authorization != "" {
			r = r.Clone(r.Context())
			r.Header.Del("Authorization")
		}
		bearer, ok := strings.CutPrefix(authorization, "Bearer ")
		if !ok || bearer == "" {
			next.ServeHTTP(w, r)
			return
		}
		resp, err := a.identity.Authenticate(r.Context(), &identityv1.AuthenticateRequest{AccessToken: strings.TrimSpace(bearer)})
		switch status.Code(err) {
		case codes.OK:
			p := auth.Principal{
				UserID:      resp.GetUserId(),
				Login:       resp.GetLogin(),
				Name:        resp.GetDisplayName(),
				Permissions: resp.GetPermissions(),
				Groups:      resp.GetGroupIds(),
				SessionID:   resp.GetSessionId(),
				// The guard of every service then refuses all but the
				// password change.
				MustChangePassword: resp.GetMustChangePassword(),
			}
			next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), &p, true)))
		case codes.Unauthenticated:
			next.ServeHTTP(w, r)
		default:
			a.log.WarnContext(r.Context(), "cannot authenticate: identity service failed", "err", err)
			writeStatus(w, status.New(codes.Unavailable, "sign-in is unavailable for a moment; try again"))
		}
	})
}
