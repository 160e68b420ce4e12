package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFieldsNamesTheFirstProblemAndCountsTheRest(t *testing.T) {
	if err := Fields(nil); err != nil {
		t.Fatalf("Fields(nil) = %v, want nil", err)
	}
	one := []Violation{{Field: "name", Description: "a name is required"}}
	if got := Fields(one).Error(); got != "a name is required" {
		t.Errorf("one violation: %q", got)
	}
	three := append(one, Violation{Field: "phone", Description: "bad phone"}, Violation{Field: "email", Description: "bad email"})
	err := Fields(three)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Invalid || len(e.Violations) != 3 {
		t.Fatalf("Fields(three) = %#v, want an Invalid error carrying all three", err)
	}
	if got, want := e.Message, "a name is required (and 2 more problems)"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestPeerErrorsBecomeDomainErrors(t *testing.T) {
	missing := Field("customerId", "customer 7 does not exist")
	refused := status.Error(codes.PermissionDenied, "no")
	for _, tc := range []struct {
		name string
		err  error
		want func(error) bool
	}{
		{"none", nil, func(err error) bool { return err == nil }},
		{"unavailable", status.Error(codes.Unavailable, "down"), func(err error) bool { return Is(err, Unavailable) }},
		{"deadline status", status.Error(codes.DeadlineExceeded, "slow"), func(err error) bool { return Is(err, Unavailable) }},
		{"own deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), func(err error) bool { return Is(err, Unavailable) }},
		{"network", &net.OpError{Op: "dial", Err: errors.New("refused")}, func(err error) bool { return Is(err, Unavailable) }},
		{"not found", status.Error(codes.NotFound, "gone"), func(err error) bool { return err == missing }},
		{"other status passes", refused, func(err error) bool { return err == refused }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Peer("customer", tc.err, missing); !tc.want(got) {
				t.Errorf("Peer(%v) = %v", tc.err, got)
			}
		})
	}
	if got := Peer("customer", status.Error(codes.NotFound, "gone"), nil); status.Code(got) != codes.NotFound {
		t.Errorf("without a notFound error a NotFound stays: %v", got)
	}
}

func TestAnEtagNamesTheVersionAnUpdateIsBasedOn(t *testing.T) {
	if v, err := Version("", 7); v != 7 || err != nil {
		t.Errorf("no etag: %d, %v; want the current version", v, err)
	}
	if v, err := Version(Etag(5), 7); v != 5 || err != nil {
		t.Errorf("etag 5: %d, %v", v, err)
	}
	if _, err := Version("W/\"x\"", 7); !Is(err, Invalid) {
		t.Errorf("a foreign etag: %v, want Invalid", err)
	}
}

func TestAnUpdateMustNameItsFields(t *testing.T) {
	if p, err := Mask([]string{"name"}); err != nil || len(p) != 1 {
		t.Errorf("Mask(name) = %v, %v", p, err)
	}
	_, err := Mask(nil, "displayName", "language")
	var e *Error
	if !errors.As(err, &e) || e.Violations[0].Field != "updateMask" || e.Message != "name the fields to change: displayName, language" {
		t.Errorf("Mask(nil) = %#v", err)
	}
}
