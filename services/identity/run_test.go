package identity

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

func TestEveryRPCDeclaresWhoMayCallIt(t *testing.T) {
	t.Parallel()
	methods := identityv1.File_crm_identity_v1_identity_proto.Services().ByName("IdentityService").Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		t.Run(string(m.Name()), func(t *testing.T) {
			rule := auth.Rule("/" + string(m.Parent().FullName()) + "/" + string(m.Name()))
			if rule == nil {
				t.Fatal("no (crm.auth.v1.access) rule")
			}
			if p := rule.GetPermission(); p != "" && !contains(productRoleTable["admin"], p) {
				t.Fatalf("the rule names %q, which is no permission", p)
			}
			_, hasHTTP := httpRule(m)
			if rule.GetInternal() == hasHTTP {
				t.Fatalf("internal %v but HTTP rule %v: internal RPCs, and only they, stay off the gateway", rule.GetInternal(), hasHTTP)
			}
		})
	}
}

func httpRule(m protoreflect.MethodDescriptor) (*annotations.HttpRule, bool) {
	r, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
	return r, r != nil && r.GetPattern() != nil
}

func TestRunServesUntilCancelled(t *testing.T) {
	t.Parallel()
	cfg := Config{
		Common:      servicetest.Common(t),
		FirstAdmin:  FirstAdmin{Password: "run-admin-password", Change: true},
		SessionIdle: time.Hour,
		SessionMax:  time.Hour,
	}
	cfg.Endpoints.Identity = "unix:" + filepath.Join(cfg.DataDir, "identity.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, servicetest.Logger()) }()
	conn := servicetest.Dial(t, cfg.Endpoints.Identity)
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the service never answered its health check: %v (run: %v)", err, errors.Join(<-done))
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := identityv1.NewIdentityServiceClient(conn)
	if resp, err := client.Login(ctx, &identityv1.LoginRequest{Login: "admin", Password: "run-admin-password"}); err != nil {
		t.Fatalf("the admin of CRM_ADMIN_PASSWORD cannot sign in: %v", err)
	} else if !resp.GetMustChangePassword() {
		t.Fatal("the admin of CRM_ADMIN_PASSWORD need not change it")
	}
	_, err := client.ListUsers(ctx, &identityv1.ListUsersRequest{})
	wantCode(t, err, codes.Unauthenticated)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}
}
