package auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	// The access rules the guard reads are declared in these.
	_ "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auth"
)

const (
	getTask        = "/crm.task.v1.TaskService/GetTask"
	deleteCustomer = "/crm.customer.v1.CustomerService/DeleteCustomer"
)

var keys = auth.NewKeyring([]byte("auth-test-internal-key-0123456789abcdef"))

func guard() (*auth.Guard, *bytes.Buffer) {
	var buf bytes.Buffer
	return auth.NewGuard(keys, slog.New(slog.NewTextHandler(&buf, nil))), &buf
}

// incoming is the server side of a call carrying token, over a connection
// whose client certificate names component ("" for plaintext).
func incoming(token, component string) context.Context {
	ctx := context.Background()
	if token != "" {
		ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(auth.Header, token))
	}
	if component != "" {
		leaf := &x509.Certificate{Subject: pkix.Name{CommonName: component}}
		ctx = peer.NewContext(ctx, &peer.Peer{AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}}})
	}
	return ctx
}

func TestTheAudienceIsTheServiceOwningTheMethod(t *testing.T) {
	for method, want := range map[string]string{
		getTask: "task",
		"/crm.task.v1.AttachmentService/UploadAttachment": "task",
		deleteCustomer:                 "customer",
		"/grpc.health.v1.Health/Check": "",
		"/crm.broken":                  "",
	} {
		if got := auth.Audience(method); got != want {
			t.Errorf("Audience(%q) = %q, want %q", method, got, want)
		}
	}
}

func TestAPrincipalSignedForAnotherServiceIsRefusedAndLogged(t *testing.T) {
	g, log := guard()
	reader := auth.Principal{UserID: 7, Permissions: []string{"tasks.read"}}
	token := keys.Sign(reader, "customer", time.Minute)
	_, err := g.Check(incoming(token, ""), getTask)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a token for customer at task: %v, want Unauthenticated", err)
	}
	if !strings.Contains(log.String(), `signed for \"customer\", not \"task\"`) {
		t.Errorf("the log does not say why:\n%s", log)
	}
	if strings.Contains(log.String(), token) {
		t.Error("the log holds the token")
	}
	if _, err := g.Check(incoming(keys.Sign(reader, "task", time.Minute), ""), getTask); err != nil {
		t.Errorf("the same user signed for task: %v", err)
	}
}

func TestAnExpiredPrincipalIsRefused(t *testing.T) {
	g, log := guard()
	token := keys.Sign(auth.Principal{UserID: 7, Permissions: []string{"tasks.read"}}, "task", -time.Second)
	if _, err := g.Check(incoming(token, ""), getTask); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("an expired token: %v, want Unauthenticated", err)
	}
	if !strings.Contains(log.String(), "expired") {
		t.Errorf("the log does not say why:\n%s", log)
	}
}

func TestAServicePrincipalMustComeOverItsOwnCertificate(t *testing.T) {
	g, log := guard()
	token := keys.Sign(auth.Principal{Service: "contract"}, "customer", time.Minute)
	_, err := g.Check(incoming(token, "admin"), deleteCustomer)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("contract's principal over admin's certificate: %v, want Unauthenticated", err)
	}
	for _, want := range []string{"claimed=contract", "certificate=admin"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log.String(), token) {
		t.Error("the log holds the token")
	}
	ctx, err := g.Check(incoming(token, "contract"), deleteCustomer)
	if err != nil {
		t.Fatalf("contract over its own certificate: %v", err)
	}
	if p, _ := auth.From(ctx); p == nil || p.Service != "contract" {
		t.Errorf("the caller is %+v, want contract", p)
	}
}

// sent returns the principal a forwarder signs onto a call to method made
// with ctx, verified as the callee would.
func sent(t *testing.T, f *auth.Forwarder, ctx context.Context, method string) *auth.Principal {
	t.Helper()
	var md metadata.MD
	invoke := func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
		md, _ = metadata.FromOutgoingContext(ctx)
		return nil
	}
	if err := f.UnaryClientInterceptor()(ctx, method, nil, nil, nil, invoke); err != nil {
		t.Fatal(err)
	}
	tokens := md.Get(auth.Header)
	if len(tokens) == 0 {
		return nil
	}
	p, err := keys.Verify(tokens[0], auth.Audience(method))
	if err != nil {
		t.Fatalf("the forwarded token does not verify at its callee: %v", err)
	}
	if ttl := time.Until(time.Unix(p.Expires, 0)); ttl > auth.TokenTTL {
		t.Errorf("the forwarded token lives %s, more than %s", ttl, auth.TokenTTL)
	}
	return p
}

func TestEachHopSignsTheUserAfreshForTheServiceCalled(t *testing.T) {
	f := auth.NewForwarder(keys, "contract")
	user := auth.Principal{UserID: 7, Login: "ann", Permissions: []string{"customers.write"}}
	ctx := auth.WithPrincipal(context.Background(), &user, true)
	for _, method := range []string{deleteCustomer, getTask} {
		p := sent(t, f, ctx, method)
		if p == nil || p.UserID != 7 || p.Audience != auth.Audience(method) {
			t.Errorf("%s: forwarded %+v, want user 7 for %s", method, p, auth.Audience(method))
		}
	}
}

func TestAServiceSpeaksAsItselfForAnotherServiceAndWhenNoUserIsBehind(t *testing.T) {
	f := auth.NewForwarder(keys, "task")
	worker := auth.Principal{Service: "worker"}
	for name, ctx := range map[string]context.Context{
		"serving the worker":   auth.WithPrincipal(context.Background(), &worker, true),
		"serving nobody":       context.Background(),
		"a user not forwarded": auth.WithPrincipal(context.Background(), &auth.Principal{UserID: 3}, false),
	} {
		if p := sent(t, f, ctx, deleteCustomer); p == nil || p.Service != "task" || p.UserID != 0 {
			t.Errorf("%s: forwarded %+v, want the task service itself", name, p)
		}
	}
}

func TestARelayPassesOnlyAUser(t *testing.T) {
	relay := auth.NewRelay(keys)
	if p := sent(t, relay, context.Background(), getTask); p != nil {
		t.Errorf("an anonymous request went out as %+v", p)
	}
	user := auth.Principal{UserID: 9}
	if p := sent(t, relay, auth.WithPrincipal(context.Background(), &user, true), getTask); p == nil || p.UserID != 9 {
		t.Errorf("the user went out as %+v", p)
	}
}
