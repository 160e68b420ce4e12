// Package customer is the customer service: customers and their phones,
// each number unique across all customers.
package customer

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/auditlog"
	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

// Name is the service's name in logs, its SQLite file and its schema.
const Name = "customer"

// Config is the customer service's configuration.
type Config struct {
	config.Common
}

// Deps are what the customer service uses and is not configured by.
type Deps struct {
	// Key signs the page tokens.
	Key []byte
	// Contracts answers searches by contract number.
	Contracts ContractFinder
	// Audit records people's changes (nil: none, in tests that do not
	// look at the log).
	Audit *auditlog.Log
}

// NewServer builds the service over an open, migrated database. It reads
// nothing from cfg yet; it takes it to be built as every service is.
func NewServer(db *gorm.DB, cfg Config, deps Deps) (*Server, error) {
	return &Server{
		store:     &store{db: db, now: time.Now},
		pages:     pagetoken.New(deps.Key),
		contracts: deps.Contracts,
		audit:     deps.Audit,
	}, nil
}

// OpenDB opens and migrates the service's store. Its statements run under
// generic plans, which plan_test.go guards.
func OpenDB(ctx context.Context, c config.Common, log *slog.Logger) (*gorm.DB, error) {
	return database.Open(ctx, c, Name, log, migrations, database.GenericPlans())
}

// Run serves the customer service until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	open := func(ctx context.Context) (*gorm.DB, error) { return OpenDB(ctx, cfg.Common, log) }
	return bootstrap.Run(ctx, Name, cfg.Common, log, open, cfg.Endpoints.Customer, func(svc *bootstrap.Service) error {
		// Contract numbers are the contract service's; a search by one asks it.
		conn, err := svc.Dial("contract", cfg.Endpoints.Contract)
		if err != nil {
			return err
		}
		idConn, err := svc.Dial("identity", cfg.Endpoints.Identity)
		if err != nil {
			return err
		}
		srv, err := NewServer(svc.DB, cfg, Deps{Key: svc.Key, Contracts: NewContractFinder(contractv1.NewContractServiceClient(conn)),
			Audit: auditlog.New(identityv1.NewIdentityServiceClient(idConn))})
		if err != nil {
			return err
		}
		customerv1.RegisterCustomerServiceServer(svc.Server, srv)
		return nil
	})
}
