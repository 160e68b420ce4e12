package ledger_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/idempotency"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// a method whose response type is registered, standing in for a command
var info = &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*ledger.Ledger, *clock, grpc.UnaryServerInterceptor) {
	t.Helper()
	db := servicetest.OpenDB(t, servicetest.Common(t), "ledgertest", []*database.Migration{ledger.Migration("0001_idempotency_keys")})
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := ledger.NewAt(db, c.now)
	return l, c, idempotency.UnaryServerInterceptor(l, c.now)
}

func call(key string) context.Context {
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: 1}, false)
	return metadata.NewIncomingContext(ctx, metadata.Pairs(idempotency.Header, key))
}

// counting answers with a fresh response, or err, counting its runs.
func counting(runs *int, err error) grpc.UnaryHandler {
	return func(context.Context, any) (any, error) {
		*runs++
		if err != nil {
			return nil, err
		}
		return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_ServingStatus(*runs)}, nil
	}
}

func TestAnAnswerARetryCouldChangeIsNotKept(t *testing.T) {
	for _, err := range []error{
		fault.New(fault.Unavailable, "the contract service is down"),
		status.Error(codes.DeadlineExceeded, "took too long"),
		status.Error(codes.Aborted, "a concurrent change won"),
		context.Canceled,
	} {
		_, _, intercept := setup(t)
		runs := 0
		if _, got := intercept(call("k"), &healthpb.HealthCheckRequest{}, info, counting(&runs, err)); got == nil {
			t.Fatal("the failure was swallowed")
		}
		if _, got := intercept(call("k"), &healthpb.HealthCheckRequest{}, info, counting(&runs, nil)); got != nil || runs != 2 {
			t.Fatalf("after %v: retry answered %v after %d runs, want it to run again", err, got, runs)
		}
	}
}

func TestAClaimWhoseRequestDiedIsTakenOverAfterTheLease(t *testing.T) {
	l, c, intercept := setup(t)
	ctx := call("k")
	req := &healthpb.HealthCheckRequest{Service: "x"}
	// a claim left by a process that died mid-request
	if ok, err := l.Claim(ctx, "user:1", info.FullMethod, "k", hashOf(t, l, c, req), c.now()); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	runs := 0
	if _, err := intercept(ctx, req, info, counting(&runs, nil)); codeOf(err) != codes.Aborted || runs != 0 {
		t.Fatalf("within the lease: %v after %d runs, want Aborted without running", err, runs)
	}
	c.t = c.t.Add(3 * time.Minute)
	if _, err := intercept(ctx, req, info, counting(&runs, nil)); err != nil || runs != 1 {
		t.Fatalf("after the lease: %v after %d runs, want one run", err, runs)
	}
}

// hashOf learns the hash the interceptor gives req, by letting it claim
// and reading the record back.
func hashOf(t *testing.T, l *ledger.Ledger, c *clock, req *healthpb.HealthCheckRequest) string {
	t.Helper()
	_, _ = idempotency.UnaryServerInterceptor(l, c.now)(call("probe"), req, info, func(context.Context, any) (any, error) {
		return &healthpb.HealthCheckResponse{}, nil
	})
	rec, err := l.Get(context.Background(), "user:1", info.FullMethod, "probe")
	if err != nil || rec == nil {
		t.Fatalf("probe record: %v %v", rec, err)
	}
	return rec.Hash
}

func TestKeysAreForgottenAfterTheirTime(t *testing.T) {
	l, c, intercept := setup(t)
	runs := 0
	if _, err := intercept(call("k"), &healthpb.HealthCheckRequest{}, info, counting(&runs, nil)); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(idempotency.TTL - time.Minute)
	if n, err := l.Purge(context.Background()); err != nil || n != 0 {
		t.Fatalf("purged %d (%v) before their time", n, err)
	}
	c.t = c.t.Add(2 * time.Minute)
	if n, err := l.Purge(context.Background()); err != nil || n != 1 {
		t.Fatalf("purged %d (%v), want 1", n, err)
	}
	resp, err := intercept(call("k"), &healthpb.HealthCheckRequest{}, info, counting(&runs, nil))
	if err != nil || runs != 2 || resp.(*healthpb.HealthCheckResponse).GetStatus() != 2 {
		t.Fatalf("after expiry: %v %v after %d runs, want a new run", resp, err, runs)
	}
}

func TestAMalformedKeyIsRefused(t *testing.T) {
	_, _, intercept := setup(t)
	runs := 0
	_, err := intercept(call("bad\x7fkey"), &healthpb.HealthCheckRequest{}, info, counting(&runs, nil))
	if codeOf(err) != codes.InvalidArgument || runs != 0 {
		t.Fatalf("got %v after %d runs, want InvalidArgument without running", err, runs)
	}
}

// codeOf is the code a caller gets for err once the server maps it.
func codeOf(err error) codes.Code {
	st, _ := fault.Status(err)
	return status.Code(st)
}
