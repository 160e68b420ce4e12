// Package auditlog writes entries of the audit log, which the identity
// service keeps, from the services where the changes happen: who changed
// what, from where, and the values before and after.
//
// An entry does not hold up the answer: the change has happened, and a
// write that fails is logged by the identity service. Changes a service
// makes on its own account (a workflow activating a contract, a
// compensation) are the workflows' history, not people's actions, and are
// not entries; an API token's service account is a user, and is.
package auditlog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/metadata"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

// ClientAddressHeader carries the client's address from the gateway.
const ClientAddressHeader = "x-crm-client-address"

// Bounds of an entry's detail, as the identity service keeps it.
const (
	maxParams = 8
	maxValue  = 200
)

// Log records entries through the identity service. A nil Log records
// nothing (a service's tests that do not look at the log).
type Log struct {
	identity identityv1.IdentityServiceClient
}

// New records through identity.
func New(identity identityv1.IdentityServiceClient) *Log { return &Log{identity: identity} }

// Record writes an entry of the caller's action on target ("customer:12"):
// a detail code and pairs of parameter names and values, rendered by each
// reader's console in its language (docs/language.md). Values are cut to
// what the log keeps.
func (l *Log) Record(ctx context.Context, action, target, code string, pairs ...string) {
	ev := entry(ctx, action, target, code, pairs)
	if l == nil || ev == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(auth.AsService(context.WithoutCancel(ctx)), 10*time.Second)
		defer cancel()
		_, _ = l.identity.RecordAuditEvent(ctx, &identityv1.RecordAuditEventRequest{Event: ev})
	}()
}

// entry is the entry of the caller's action; nil for a service's own.
func entry(ctx context.Context, action, target, code string, pairs []string) *identityv1.AuditEvent {
	p, ok := auth.From(ctx)
	if !ok || p.IsService() {
		return nil
	}
	var addr string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(ClientAddressHeader); len(v) == 1 {
			addr = v[0]
		}
	}
	ev := &identityv1.AuditEvent{ActorId: p.UserID, ActorLogin: p.Login, Action: action, Target: target, ClientAddress: addr, DetailCode: code}
	if len(pairs) > 0 {
		ev.DetailParams = make(map[string]string, len(pairs)/2)
		for i := 0; i+1 < len(pairs) && len(ev.DetailParams) < maxParams; i += 2 {
			ev.DetailParams[pairs[i]] = clip(pairs[i+1])
		}
	}
	return ev
}

// Change describes what changed between two versions of an object's
// fields (name → value), as the "before" and "after" of an entry: only the
// fields that differ, in name order ("email: a@x; name: Ann").
func Change(before, after map[string]string) (string, string) {
	var names []string
	for k, v := range after {
		if before[k] != v {
			names = append(names, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b, a []string
	for _, k := range names {
		b = append(b, fmt.Sprintf("%s: %s", k, before[k]))
		a = append(a, fmt.Sprintf("%s: %s", k, after[k]))
	}
	return strings.Join(b, "; "), strings.Join(a, "; ")
}

// clip cuts a value to what the log keeps, at a character's boundary.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxValue {
		return s
	}
	r := []rune(s)
	return string(r[:maxValue-1]) + "…"
}
