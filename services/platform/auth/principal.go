// Package auth carries who is calling from the gateway to every service and
// enforces the access rule each RPC declares in its proto definition.
//
// The gateway authenticates a user's bearer token with the identity service
// and forwards the user as a Principal signed with the internal key (HMAC).
// Every hop signs the caller afresh for the service it calls (the token's
// audience) with a lifetime of a minute, and a service trusts only a
// principal signed for itself, never a plain header, so a client cannot
// forge one through the gateway and a token taken from one service is of
// no use at another. With mutual TLS on, a service's own identity must
// also match the certificate of the connection it arrives on.
package auth

import (
	"context"
	"slices"
)

// Principal is the caller of an RPC: a user, or a service acting on its own.
type Principal struct {
	UserID int64  `json:"uid,omitempty"`
	Login  string `json:"login,omitempty"`
	// Name is the user's display name, for timelines and messages.
	Name        string   `json:"name,omitempty"`
	Permissions []string `json:"perms,omitempty"`
	Groups      []int64  `json:"groups,omitempty"`
	SessionID   string   `json:"sid,omitempty"`
	// MustChangePassword: the user may call only the RPCs marked
	// before_password_change until the password is changed.
	MustChangePassword bool `json:"pwc,omitempty"`
	// Service names the calling service when no user is behind the call.
	Service string `json:"svc,omitempty"`
	// Audience is the service the token was signed for (see Audience);
	// another refuses it.
	Audience string `json:"aud"`
	// Expires is a Unix time in seconds.
	Expires int64 `json:"exp"`
}

// IsService tells a service's own call from a user's.
func (p *Principal) IsService() bool { return p.Service != "" && p.UserID == 0 }

// Can tells whether the principal holds a permission. A service may do
// anything: it acts for a user whose rights were checked where the user
// called, or on its own business (a workflow closing a task).
func (p *Principal) Can(permission string) bool {
	return p.IsService() || slices.Contains(p.Permissions, permission)
}

// InGroup tells whether the user belongs to a work group.
func (p *Principal) InGroup(groupID int64) bool { return slices.Contains(p.Groups, groupID) }

type ctxKey struct{}

type carried struct {
	p       *Principal
	forward bool
}

// WithPrincipal stores the caller of the current request. With forward,
// calls this request makes to other services carry the same caller, signed
// afresh for each (the guard sets it for a verified principal, the gateway
// for a user whose session it checked). Without, the caller is known here
// only and calls go out as the service itself.
func WithPrincipal(ctx context.Context, p *Principal, forward bool) context.Context {
	return context.WithValue(ctx, ctxKey{}, carried{p: p, forward: forward})
}

// From returns the caller of the current request.
func From(ctx context.Context) (*Principal, bool) {
	c, ok := ctx.Value(ctxKey{}).(carried)
	return c.p, ok && c.p != nil
}

// AsService returns ctx without the caller, so calls made with it carry
// the service's own identity: for internal RPCs a service asks on its own
// account while serving a user (membership checks, names).
func AsService(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, carried{})
}
