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
	"github.com/telecomcrm/crm/services/platform/auditlog"
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
	Visits      VisitConfig
	Webhooks    WebhookConfig
	// ReopenWithin is how long after a task ended it may be opened again;
	// 0: never.
	ReopenWithin time.Duration `env:"CRM_REOPEN_WITHIN" envDefault:"336h"`
}

// Deps are what the task service uses and is not configured by: the
// services and the workflow client it calls, its key and its logger.
type Deps struct {
	// Key signs the page tokens.
	Key       []byte
	Flows     Workflows
	Contracts contractv1.ContractServiceClient
	Customers customerv1.CustomerServiceClient
	Identity  identityv1.IdentityServiceClient
	Notifier  notifierv1.NotifierServiceClient
	Log       *slog.Logger
}

// OpenDB opens and migrates the service's store.
func OpenDB(ctx context.Context, c config.Common, log *slog.Logger) (*gorm.DB, error) {
	return database.Open(ctx, c, Name, log, migrations)
}

// NewServer builds the service over an open, migrated database; run
// Forward in the background to deliver notices. The titles it composes
// are in cfg's Locale (unset: Russian).
func NewServer(db *gorm.DB, cfg Config, deps Deps) (*Server, error) {
	clock := func() int64 { return time.Now().UTC().UnixMicro() }
	routes := &routeStore{db: db, clock: clock}
	st := &store{db: db, routes: routes, clock: clock}
	return &Server{
		store: st, routes: routes, pages: pagetoken.New(deps.Key), flows: deps.Flows,
		contracts: deps.Contracts, customers: deps.Customers, identity: deps.Identity, auditLog: auditlog.New(deps.Identity),
		notices: newForwarder(st, deps.Notifier, deps.Flows.Sequence, deps.Log), hooks: newHooks(db, deps.Flows, cfg.Webhooks, clock, deps.Log), calendars: calendarStore{db},
		log: deps.Log, locale: locale.Normal(cfg.Locale), reopenWithin: cfg.ReopenWithin,
	}, nil
}

// Forward hands queued notices to the notifier, and queued events to the
// webhook subscriptions, until ctx ends.
func (s *Server) Forward(ctx context.Context) {
	go s.hooks.run(ctx)
	s.notices.run(ctx)
}

// Run serves the task service until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	open := func(ctx context.Context) (*gorm.DB, error) { return OpenDB(ctx, cfg.Common, log) }
	return bootstrap.Run(ctx, Name, cfg.Common, log, open, cfg.Endpoints.Task, func(svc *bootstrap.Service) error {
		conns := map[string]string{"contract": cfg.Endpoints.Contract, "customer": cfg.Endpoints.Customer, "identity": cfg.Endpoints.Identity, "notifier": cfg.Endpoints.Notifier}
		c := map[string]*grpc.ClientConn{}
		for name, addr := range conns {
			conn, err := svc.Dial(name, addr)
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
		srv, err := NewServer(svc.DB, cfg, Deps{
			Key:       svc.Key,
			Flows:     &taskflow.Client{Temporal: tc, TaskQueue: cfg.Temporal.TaskQueue},
			Contracts: contractv1.NewContractServiceClient(c["contract"]),
			Customers: customerv1.NewCustomerServiceClient(c["customer"]),
			Identity:  identityv1.NewIdentityServiceClient(c["identity"]),
			Notifier:  notifierv1.NewNotifierServiceClient(c["notifier"]),
			Log:       log,
		})
		if err != nil {
			return err
		}
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
		taskv1.RegisterVisitServiceServer(svc.Server, NewVisitServer(srv, cfg.Visits))
		taskv1.RegisterWebhookServiceServer(svc.Server, NewWebhookServer(srv, svc.Key))
		taskv1.RegisterCalendarServiceServer(svc.Server, NewCalendarServer(srv))
		taskv1.RegisterReportServiceServer(svc.Server, NewReportServer(srv, cfg.Visits.TimeZone))
		return nil
	})
}
