package gateway

import (
	"context"
	"fmt"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
)

// backend is one service behind the gateway: where it listens and how its
// REST handlers are registered on a connection to it.
type backend struct {
	name     string
	addr     func(config.Endpoints) string
	register []func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error
}

type registrar = func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error

// backends lists every service the REST API reaches. Adding a service to
// the API is one row here.
var backends = []backend{
	{"identity", func(e config.Endpoints) string { return e.Identity }, []registrar{identityv1.RegisterIdentityServiceHandler}},
	{"customer", func(e config.Endpoints) string { return e.Customer }, []registrar{customerv1.RegisterCustomerServiceHandler}},
	{"contract", func(e config.Endpoints) string { return e.Contract }, []registrar{contractv1.RegisterContractServiceHandler, contractv1.RegisterConnectionServiceHandler, contractv1.RegisterImportServiceHandler}},
	{"task", func(e config.Endpoints) string { return e.Task }, []registrar{taskv1.RegisterTaskServiceHandler, taskv1.RegisterAttachmentServiceHandler, taskv1.RegisterVisitServiceHandler, taskv1.RegisterWebhookServiceHandler, taskv1.RegisterCalendarServiceHandler, taskv1.RegisterReportServiceHandler}},
	{"notifier", func(e config.Endpoints) string { return e.Notifier }, []registrar{notifierv1.RegisterNotifierServiceHandler}},
}

// dialBackends opens one connection per backend with d, whose relay
// signs only the user the authentication step found into each call: an
// anonymous request reaches a backend as anonymous.
func dialBackends(ctx context.Context, d grpcclient.Dialer, e config.Endpoints, mux *runtime.ServeMux) (map[string]*grpc.ClientConn, error) {
	conns := map[string]*grpc.ClientConn{}
	for _, b := range backends {
		conn, err := d.Dial(b.name, b.addr(e))
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns[b.name] = conn
		for _, register := range b.register {
			if err := register(ctx, mux, conn); err != nil {
				closeAll(conns)
				return nil, fmt.Errorf("registering %s: %w", b.name, err)
			}
		}
	}
	return conns, nil
}

func closeAll(conns map[string]*grpc.ClientConn) {
	for _, c := range conns {
		c.Close()
	}
}
