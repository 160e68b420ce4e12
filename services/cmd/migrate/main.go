// Command migrate brings every service's store to its newest schema, then
// exits: the one-shot job a deployment runs before the services start (they
// migrate on start too, under a lock, so it only takes the wait off their
// first start). With CRM_MIGRATE_NAMESPACE=true it also registers the
// Temporal namespace and the search attributes the workflows set.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/contract"
	"github.com/telecomcrm/crm/services/customer"
	"github.com/telecomcrm/crm/services/identity"
	"github.com/telecomcrm/crm/services/notifier"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/process"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/services/task"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

type settings struct {
	config.Common
	// FirstAdmin is the first admin's password on a new database.
	identity.FirstAdmin
	// Namespace asks for the Temporal namespace and its search attributes
	// to be registered (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE).
	Namespace bool `env:"CRM_MIGRATE_NAMESPACE"`
	// Retention is how long the namespace keeps closed workflows.
	Retention time.Duration `env:"CRM_NAMESPACE_RETENTION" envDefault:"720h"`
}

func main() { process.Main("migrate", run) }

func run(ctx context.Context, s settings, log *slog.Logger) error {
	opens := []struct {
		name string
		open func() (*gorm.DB, error)
	}{
		{identity.Name, func() (*gorm.DB, error) {
			return identity.OpenDB(ctx, s.Common, s.FirstAdmin, log)
		}},
		{customer.Name, func() (*gorm.DB, error) { return customer.OpenDB(ctx, s.Common, log) }},
		{contract.Name, func() (*gorm.DB, error) { return contract.OpenDB(ctx, s.Common, log) }},
		{task.Name, func() (*gorm.DB, error) { return task.OpenDB(ctx, s.Common, log) }},
		{notifier.Name, func() (*gorm.DB, error) { return notifier.OpenDB(ctx, s.Common, log) }},
	}
	for _, o := range opens {
		db, err := o.open()
		if err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
		database.Close(db)
		log.Info("store migrated", "store", o.name)
	}
	if !s.Namespace {
		return nil
	}
	tc, err := temporalclient.Dial(ctx, s.Temporal, log, 2*time.Minute)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := temporalclient.EnsureNamespace(ctx, tc, s.Temporal.Namespace, s.Retention, taskflow.SearchAttributes(), 2*time.Minute); err != nil {
		return err
	}
	log.Info("namespace ready", "namespace", s.Temporal.Namespace, "search_attributes", len(taskflow.SearchAttributes()))
	return nil
}
