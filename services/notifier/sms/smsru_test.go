package sms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

func fake(t *testing.T) *smsrufake.Server {
	t.Helper()
	f, err := smsrufake.New("key-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func TestSMSRuSendsAndReadsTheDeliveryStatus(t *testing.T) {
	f := fake(t)
	p := NewSMSRu(f.URL(), "key-1", "TelecomCRM", 5*time.Second)
	ctx := context.Background()
	id, err := p.Send(ctx, Message{To: "+7 916 123-45-67", Text: "Ваш договор C-000001 открыт"})
	if err != nil {
		t.Fatal(err)
	}
	sent := f.SentTo("79161234567")
	if len(sent) != 1 || sent[0].ID != id || sent[0].Text != "Ваш договор C-000001 открыт" || sent[0].From != "TelecomCRM" {
		t.Fatalf("the provider took %+v (id %q)", f.Sent(), id)
	}
	st, err := p.Status(ctx, id)
	if err != nil || st.State != Delivered || !st.State.Final() || st.Code != 103 {
		t.Fatalf("status %+v, %v; want delivered (103)", st, err)
	}
	f.SetStatus(id, 104)
	if st, err := p.Status(ctx, id); err != nil || st.State != Undelivered {
		t.Fatalf("an expired message: %+v, %v", st, err)
	}
	f.SetStatus(id, 102)
	if st, err := p.Status(ctx, id); err != nil || st.State != InTransit || st.State.Final() {
		t.Fatalf("a message on its way: %+v, %v", st, err)
	}
}

func TestSMSRuRefusalsTellWhetherToTryAgain(t *testing.T) {
	f := fake(t)
	p := NewSMSRu(f.URL(), "key-1", "", 5*time.Second)
	ctx := context.Background()
	msg := Message{To: "+79161234567", Text: "hello"}
	cases := []struct {
		name      string
		code      int
		temporary bool
	}{
		{"the service is unavailable", 220, true},
		{"too many identical messages this minute", 231, true},
		{"no route to the number", 207, false},
		{"the number is on the stop list", 209, false},
		{"no money on the account", 201, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.Refuse(tc.code)
			_, err := p.Send(ctx, msg)
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code || Temporary(err) != tc.temporary {
				t.Fatalf("got %v (temporary %v), want code %d temporary %v", err, Temporary(err), tc.code, tc.temporary)
			}
		})
	}
	if len(f.Sent()) != 0 {
		t.Fatalf("refused messages were taken: %+v", f.Sent())
	}

	wrongKey := NewSMSRu(f.URL(), "other", "", 5*time.Second)
	if _, err := wrongKey.Send(ctx, msg); Temporary(err) {
		t.Fatalf("a wrong api_id: %v; want a permanent refusal", err)
	}
	// Down (503) or throttled (429): turned away, so a refusal to try again
	// (not taken); a lost answer is not a refusal: it may have been taken.
	f.GoDown()
	if _, err := p.Send(ctx, msg); !Temporary(err) || !errors.As(err, new(*Error)) {
		t.Fatalf("the service down: %v; want a temporary refusal", err)
	}
	f.ComeBack()
	f.Throttle(1)
	if _, err := p.Send(ctx, msg); !Temporary(err) || !errors.As(err, new(*Error)) {
		t.Fatalf("throttled: %v; want a temporary refusal", err)
	}
	f.DropAnswers(1)
	if _, err := p.Send(ctx, msg); !Temporary(err) || errors.As(err, new(*Error)) {
		t.Fatalf("a lost answer: %v; want a temporary failure that is not a refusal", err)
	}
	if len(f.Sent()) != 1 {
		t.Fatal("the message whose answer was lost is not with the provider")
	}
}
