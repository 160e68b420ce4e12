package auditlog

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

type identity struct {
	identityv1.IdentityServiceClient
	mu  sync.Mutex
	got []*identityv1.AuditEvent
}

func (i *identity) RecordAuditEvent(_ context.Context, req *identityv1.RecordAuditEventRequest, _ ...grpc.CallOption) (*identityv1.RecordAuditEventResponse, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.got = append(i.got, req.GetEvent())
	return &identityv1.RecordAuditEventResponse{}, nil
}

func (i *identity) events() []*identityv1.AuditEvent {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]*identityv1.AuditEvent(nil), i.got...)
}

func TestAPersonsChangeIsRecordedAndAServicesOwnIsNot(t *testing.T) {
	id := &identity{}
	l := New(id)
	user := auth.WithPrincipal(metadata.NewIncomingContext(context.Background(), metadata.Pairs(ClientAddressHeader, "203.0.113.9")),
		&auth.Principal{UserID: 7, Login: "ann"}, false)
	if ev := entry(auth.AsService(context.Background()), "customer.update", "customer:1", "customer_changed", nil); ev != nil {
		t.Fatalf("a service's own change is an entry: %v", ev)
	}
	long := strings.Repeat("я", 300)
	pairs := []string{"name", long}
	for i := range 10 {
		pairs = append(pairs, string(rune('a'+i)), "v")
	}
	l.Record(user, "customer.update", "customer:1", "customer_changed", pairs...)
	var nilLog *Log
	nilLog.Record(user, "x", "y", "z")
	deadline := time.Now().Add(5 * time.Second)
	for len(id.events()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	evs := id.events()
	if len(evs) != 1 {
		t.Fatalf("%d entries, want the person's only", len(evs))
	}
	ev := evs[0]
	if ev.GetActorId() != 7 || ev.GetActorLogin() != "ann" || ev.GetClientAddress() != "203.0.113.9" || ev.GetTarget() != "customer:1" || ev.GetDetailCode() != "customer_changed" {
		t.Fatalf("entry %v", ev)
	}
	if n := len(ev.GetDetailParams()); n != maxParams {
		t.Fatalf("%d parameters, want them cut to %d", n, maxParams)
	}
	if v := ev.GetDetailParams()["name"]; len([]rune(v)) != maxValue || !strings.HasSuffix(v, "…") {
		t.Fatalf("a long value kept as %d characters", len([]rune(v)))
	}
}

func TestChangeNamesOnlyWhatDiffers(t *testing.T) {
	before, after := Change(
		map[string]string{"name": "Ann", "email": "a@x", "address": "Tverskaya 1", "kind": "PERSON"},
		map[string]string{"name": "Anna", "email": "a@x", "address": "", "kind": "PERSON"},
	)
	if before != "address: Tverskaya 1; name: Ann" || after != "address: ; name: Anna" {
		t.Fatalf("before %q, after %q", before, after)
	}
}
