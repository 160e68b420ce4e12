// Package contract is the contract service: tariffs, and contracts with
// their human numbers and statuses.
package contract

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/connection"
	"github.com/telecomcrm/crm/workflows/imports"
	"github.com/telecomcrm/crm/workflows/wizard"
)

// Name is the service's name in logs, its SQLite file and its schema.
const Name = "contract"

// Config is the contract service's configuration.
type Config struct {
	config.Common
	// ImportMaxBytes bounds an import's file (the gateway reads it too).
	ImportMaxBytes int64 `env:"CRM_IMPORT_MAX_BYTES" envDefault:"67108864"`
	// ImportConnectors bound the connections an import starts at once.
	// One leaves a two-core machine room for the contracts people open
	// meanwhile, for a fifth of the import's pace; more cores can take
	// more (docs/import.md).
	ImportConnectors int `env:"CRM_IMPORT_CONNECTORS" envDefault:"1"`
}

// Deps are what the contract service uses and is not configured by.
type Deps struct {
	// Key signs the page tokens.
	Key []byte
	// Customers reaches the customer service.
	Customers customerv1.CustomerServiceClient
	// Starter starts a new contract's connection.
	Starter ConnectionStarter
	// Audit records people's changes (nil: none).
	Audit *auditlog.Log
}

// NewServer builds the service over an open, migrated database. It reads
// nothing from cfg yet; it takes it to be built as every service is.
func NewServer(db *gorm.DB, cfg Config, deps Deps) (*Server, error) {
	return &Server{
		store:     &store{db: db, now: time.Now},
		pages:     pagetoken.New(deps.Key),
		customers: deps.Customers,
		audit:     deps.Audit,
		starter:   deps.Starter,
	}, nil
}

// OpenDB opens and migrates the service's store.
func OpenDB(ctx context.Context, c config.Common, log *slog.Logger) (*gorm.DB, error) {
	return database.Open(ctx, c, Name, log, migrations)
}

// Run serves the contract service until ctx ends; each new contract's
// connection workflow is started on the configured Temporal cluster.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	tc, err := temporalclient.Lazy(cfg.Temporal, log)
	if err != nil {
		return err
	}
	defer tc.Close()
	return RunWith(ctx, cfg, log, Runners{
		Connections: &connection.Starter{Client: tc, TaskQueue: cfg.Temporal.TaskQueue},
		Saga:        &wizard.Starter{Client: tc, TaskQueue: cfg.Temporal.TaskQueue},
		Imports:     &imports.Runner{Client: tc, TaskQueue: cfg.Temporal.TaskQueue},
	})
}

// Runners are the workflows the contract service starts.
type Runners struct {
	Connections ConnectionStarter
	Saga        Saga
	Imports     ImportRunner
}

// RunWith serves the contract service with its workflows' starters: in
// production the connection's (an Update-with-Start of the workflow
// "connection-<contractId>" that returns the connection task's id), the
// saga the connection wizard runs, and the imports' runs.
func RunWith(ctx context.Context, cfg Config, log *slog.Logger, run Runners) error {
	open := func(ctx context.Context) (*gorm.DB, error) { return OpenDB(ctx, cfg.Common, log) }
	return bootstrap.Run(ctx, Name, cfg.Common, log, open, cfg.Endpoints.Contract, func(svc *bootstrap.Service) error {
		conn, err := svc.Dial("customer", cfg.Endpoints.Customer)
		if err != nil {
			return err
		}
		taskConn, err := svc.Dial("task", cfg.Endpoints.Task)
		if err != nil {
			return err
		}
		idConn, err := svc.Dial("identity", cfg.Endpoints.Identity)
		if err != nil {
			return err
		}
		contracts, err := NewServer(svc.DB, cfg, Deps{Key: svc.Key, Customers: customerv1.NewCustomerServiceClient(conn), Starter: run.Connections,
			Audit: auditlog.New(identityv1.NewIdentityServiceClient(idConn))})
		if err != nil {
			return err
		}
		contractv1.RegisterContractServiceServer(svc.Server, contracts)
		contractv1.RegisterConnectionServiceServer(svc.Server, NewWizard(contracts, run.Saga, taskv1.NewTaskServiceClient(taskConn), log))
		contractv1.RegisterImportServiceServer(svc.Server, NewImports(contracts, run.Imports, cfg.ImportMaxBytes, cfg.ImportConnectors))
		return nil
	})
}
