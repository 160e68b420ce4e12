// Package task is the task service: routes and their versions, tasks (the
// read model of their workflows), comments and timelines; it starts task
// workflows and passes people's commands to them as updates.
package task

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/blobstore"
	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/locale"
	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// Name is the service's name in logs, its SQLite file and its schema.
const Name = "task"

// Config is the task service's configuration.
type Config struct {
	config.Common
	Attachments AttachmentConfig
}

// Deps are the services and the workflow client the task service uses.
type Deps struct {
	Flows     Workflows
	Contracts contractv1.ContractServiceClient
	Customers customerv1.CustomerServiceClient
	Identity  identityv1.IdentityServiceClient
	Notifier  notifierv1.NotifierServiceClient
	// Locale is the deployment's language (CRM_LOCALE), of the titles the
	// service composes; unset is Russian.
	Locale string
}

// OpenDB opens and migrates the service's store.
func OpenDB(ctx context.Context, c config.Common, log *slog.Logger) (*gorm.DB, error) {
	return database.Open(ctx, c, Name, log, migrations)
}

// NewServer builds the service; run Forward in the background to deliver
// notices.
func NewServer(db *gorm.DB, key []byte, d Deps, log *slog.Logger) *Server {
	clock := func() int64 { return time.Now().UTC().UnixMicro() }
	routes := &routeStore{db: db, clock: clock}
	st := &store{db: db, routes: routes, clock: clock}
	return &Server{
		store: st, routes: routes, pages: pagetoken.New(key), flows: d.Flows,
		contracts: d.Contracts, customers: d.Customers, identity: d.Identity,
		notices: newForwarder(st, d.Notifier, log), log: log, locale: locale.Normal(d.Locale),
	}
}

// Forward hands queued notices to the notifier until ctx ends.
func (s *Server) Forward(ctx context.Context) { s.notices.run(ctx) }

// Run serves the task service until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	open := func(ctx context.Context) (*gorm.DB, error) { return OpenDB(ctx, cfg.Common, log) }
	return bootstrap.Run(ctx, Name, cfg.Common, log, open, cfg.Endpoints.Task, func(svc *bootstrap.Service) error {
		conns := map[string]string{"contract": cfg.Endpoints.Contract, "customer": cfg.Endpoints.Customer, "identity": cfg.Endpoints.Identity, "notifier": cfg.Endpoints.Notifier}
		c := map[string]*grpc.ClientConn{}
		for name, addr := range conns {
			conn, err := svc.Dial(addr)
			if err != nil {
				return err
			}
			c[name] = conn
		}
		tc, err := temporalclient.Lazy(cfg.Temporal, log)
		if err != nil {
			return err
		}
		svc.Defer(tc.Close)
		srv := NewServer(svc.DB, svc.Key, Deps{
			Flows:     &taskflow.Client{Temporal: tc, TaskQueue: cfg.Temporal.TaskQueue},
			Contracts: contractv1.NewContractServiceClient(c["contract"]),
			Customers: customerv1.NewCustomerServiceClient(c["customer"]),
			Identity:  identityv1.NewIdentityServiceClient(c["identity"]),
			Notifier:  notifierv1.NewNotifierServiceClient(c["notifier"]),
			Locale:    cfg.Locale,
		}, log)
		stuck := newStuckCollector(srv.store.countStuck, log)
		if err := metrics.Default().Register(stuck); err != nil {
			return err
		}
		svc.Defer(func() { metrics.Default().Unregister(stuck) })
		svc.Go(func(ctx context.Context) error { srv.Forward(ctx); return nil })
		taskv1.RegisterTaskServiceServer(svc.Server, srv)
		blobs, err := blobstore.Open(ctx, cfg.Attachments.Config, cfg.DataDir)
		if err != nil {
			return err
		}
		taskv1.RegisterAttachmentServiceServer(svc.Server, NewAttachmentServer(srv, blobs, cfg.Attachments))
		return nil
	})
}
