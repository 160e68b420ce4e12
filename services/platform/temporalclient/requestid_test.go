package temporalclient

import (
	"context"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/telecomcrm/crm/services/platform/requestid"
)

type header map[string]*commonpb.Payload

func (h header) Set(k string, v *commonpb.Payload) { h[k] = v }
func (h header) Get(k string) (*commonpb.Payload, bool) {
	v, ok := h[k]
	return v, ok
}
func (h header) ForEachKey(f func(string, *commonpb.Payload) error) error {
	for k, v := range h {
		if err := f(k, v); err != nil {
			return err
		}
	}
	return nil
}

func TestRequestIDTravelsThroughATemporalHeader(t *testing.T) {
	p := requestIDPropagator{}
	h := header{}
	if err := p.Inject(requestid.With(context.Background(), "abc123"), h); err != nil {
		t.Fatal(err)
	}
	ctx, err := p.Extract(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if got := requestid.From(ctx); got != "abc123" {
		t.Fatalf("extracted %q, want abc123", got)
	}
}

func TestNoRequestIDWritesNoHeaderAndAnOverlongOneIsDropped(t *testing.T) {
	p := requestIDPropagator{}
	h := header{}
	if err := p.Inject(context.Background(), h); err != nil || len(h) != 0 {
		t.Fatalf("header %v, err %v: want nothing written", h, err)
	}
	long := make([]byte, 65)
	for i := range long {
		long[i] = 'a'
	}
	if err := inject(string(long), h); err != nil {
		t.Fatal(err)
	}
	ctx, _ := p.Extract(context.Background(), h)
	if got := requestid.From(ctx); got != "" {
		t.Fatalf("an id of 65 bytes was trusted: %q", got)
	}
}
