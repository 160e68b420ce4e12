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
	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
)

// Name is the service's name in logs, its SQLite file and its schema.
const Name = "customer"

// Config is the customer service's configuration.
type Config struct {
	config.Common
}

// NewServer builds the service over an open, migrated database.
func NewServer(db *gorm.DB, key []byte, contracts ContractFinder) *Server {
	return &Server{
		store:     &store{db: db, now: time.Now},
		pages:     pagetoken.New(key),
		contracts: contracts,
	}
}

// OpenDB opens and migrates the service's store.
func OpenDB(ctx context.Context, c config.Common, log *slog.Logger) (*gorm.DB, error) {
	return database.Open(ctx, c, Name, log, migrations)
}

// Run serves the customer service until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	key, err := cfg.SigningKey()
	if err != nil {
		return err
	}
	db, err := OpenDB(ctx, cfg.Common, log)
	if err != nil {
		return err
	}
	defer database.Close(db)
	keys := auth.NewKeyring(key)
	// Contract numbers are the contract service's; a search by one asks it.
	conn, err := grpcclient.Dial(cfg.Endpoints.Contract, auth.NewForwarder(keys, Name))
	if err != nil {
		return err
	}
	defer conn.Close()
	idem := ledger.New(db)
	go idem.Sweep(ctx, log)
	srv := grpcserver.New(log, auth.NewGuard(keys), idem.ServerOption())
	customerv1.RegisterCustomerServiceServer(srv, NewServer(db, key, NewContractFinder(contractv1.NewContractServiceClient(conn))))
	log.Info("serving", "addr", cfg.Endpoints.Customer)
	return srv.Serve(ctx, cfg.Endpoints.Customer)
}
