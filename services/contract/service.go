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
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/process"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/connection"
)

// Name is the service's name in logs, its SQLite file and its schema.
const Name = "contract"

// Config is the contract service's configuration.
type Config struct {
	config.Common
}

// NewServer builds the service over an open, migrated database. customers
// reaches the customer service; starter starts a new contract's connection.
func NewServer(db *gorm.DB, key []byte, customers customerv1.CustomerServiceClient, starter ConnectionStarter) *Server {
	return &Server{
		store:     &store{db: db, now: time.Now},
		pages:     pagetoken.New(key),
		customers: customers,
		starter:   starter,
	}
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
	return RunWith(ctx, cfg, log, &connection.Starter{Client: tc, TaskQueue: cfg.Temporal.TaskQueue})
}

// RunWith serves the contract service with a connection starter: in
// production the one that Updates-with-Start the workflow
// "connection-<contractId>" and returns the connection task's id.
func RunWith(ctx context.Context, cfg Config, log *slog.Logger, starter ConnectionStarter) error {
	open := func(ctx context.Context) (*gorm.DB, error) { return OpenDB(ctx, cfg.Common, log) }
	return bootstrap.Run(ctx, Name, cfg.Common, log, open, cfg.Endpoints.Contract, func(svc *bootstrap.Service) error {
		conn, err := svc.Dial(cfg.Endpoints.Customer)
		if err != nil {
			return err
		}
		taskConn, err := svc.Dial(cfg.Endpoints.Task)
		if err != nil {
			return err
		}
		customers := customerv1.NewCustomerServiceClient(conn)
		contracts := NewServer(svc.DB, svc.Key, customers, starter)
		contractv1.RegisterContractServiceServer(svc.Server, contracts)
		contractv1.RegisterConnectionServiceServer(svc.Server, NewWizard(contracts, customers, taskv1.NewTaskServiceClient(taskConn), log))
		svc.Go(func(ctx context.Context) error { contracts.sweepStranded(ctx, log); return nil })
		return nil
	})
}

// strandedAfter is how old a pending contract without a connection task
// must be to count as stranded: a new contract waits 20 s at most for its
// task, and the task service records the task on the contract as it
// makes it.
const strandedAfter = 2 * time.Minute

// sweepStranded removes, every half minute, the pending contracts whose
// connection never started: the contract service ended between writing
// one and starting its workflow, and the request that opened it failed.
// The removal is conditional (pending, no task), so a connection that does
// start meanwhile keeps its contract, and its task finds none and ends.
// It stays while a contract's row is written before its connection
// workflow starts; it goes once the contract is opened by a workflow too.
func (s *Server) sweepStranded(ctx context.Context, log *slog.Logger) {
	process.Every(ctx, 30*time.Second, func(ctx context.Context) {
		if n, err := s.removeStranded(ctx); err != nil && ctx.Err() == nil {
			log.Warn("removing stranded pending contracts failed; will retry", "err", err)
		} else if n > 0 {
			log.Warn("removed pending contracts whose connection never started", "count", n)
		}
	})
}

// removeStranded is one sweep; it tells how many contracts went.
func (s *Server) removeStranded(ctx context.Context) (int, error) {
	ids, err := s.store.strandedPending(ctx, s.store.now().Add(-strandedAfter), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.store.deletePending(ctx, id)
		switch {
		case err == nil:
			n++
		case fault.Is(err, fault.FailedPrecondition):
			// its task came meanwhile
		default:
			return n, err
		}
	}
	return n, nil
}
