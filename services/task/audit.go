package task

import (
	"context"
	"time"

	"google.golang.org/grpc/metadata"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

// clientAddressHeader carries the client's address from the gateway.
const clientAddressHeader = "x-crm-client-address"

// audit records who did what to which task or route, from where, in the
// identity service's audit log. It does not hold up the answer: the task's
// own timeline already keeps the step, and an audit write that fails is
// logged by the identity service.
//
// The detail is a code and pairs of parameter names and values, rendered by
// each reader's console in its language (docs/language.md).
func (s *Server) audit(ctx context.Context, action, target, code string, pairs ...string) {
	p, ok := auth.From(ctx)
	if !ok || p.IsService() {
		return
	}
	var addr string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(clientAddressHeader); len(v) == 1 {
			addr = v[0]
		}
	}
	ev := &identityv1.AuditEvent{ActorId: p.UserID, ActorLogin: p.Login, Action: action, Target: target, ClientAddress: addr, DetailCode: code}
	if len(pairs) > 0 {
		ev.DetailParams = make(map[string]string, len(pairs)/2)
		for i := 0; i+1 < len(pairs); i += 2 {
			ev.DetailParams[pairs[i]] = pairs[i+1]
		}
	}
	go func() {
		ctx, cancel := context.WithTimeout(auth.AsService(context.WithoutCancel(ctx)), 10*time.Second)
		defer cancel()
		_, _ = s.identity.RecordAuditEvent(ctx, &identityv1.RecordAuditEventRequest{Event: ev})
	}()
}
