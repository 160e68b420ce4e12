// Package database opens a service's own store: a SQLite file under the data
// folder by default, or its own schema in PostgreSQL when CRM_DATABASE_URL is
// set; and runs the service's versioned migrations.
package database

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/locale"
)

// Migration is one versioned schema step; its ID orders it ("0001_customers").
type Migration = gormigrate.Migration

// Option changes how Open connects.
type Option func(*pgx.ConnConfig)

// GenericPlans has PostgreSQL plan each prepared statement once, for any
// parameters (plan_cache_mode = force_generic_plan), instead of planning it
// again at every run while it estimates a plan for the run's values to be
// cheaper. A service whose every reading statement is guarded by a test of
// its generic plan (servicetest.GenericPlan) takes it: the search
// statements of the customer service cost as much to plan, each run, as to
// execute.
func GenericPlans() Option {
	return func(c *pgx.ConnConfig) { c.RuntimeParams["plan_cache_mode"] = "force_generic_plan" }
}

// Open connects to the service's store and migrates it. service names the
// SQLite file and the PostgreSQL schema.
func Open(ctx context.Context, c config.Common, service string, log *slog.Logger, migrations []*Migration, opts ...Option) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger: logger.Discard,
		// GORM's statement cache on SQLite only (openSQLite): pgx already
		// prepares and caches each statement per connection.
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var (
		db  *gorm.DB
		err error
	)
	if c.UsesPostgres() {
		db, err = openPostgres(ctx, c.DatabaseURL, service, gcfg, opts)
	} else {
		db, err = openSQLite(c.DataDir, service, gcfg)
	}
	if err != nil {
		return nil, err
	}
	if err := translateRefusals(db); err != nil {
		return nil, err
	}
	// A seed step writes default data in the deployment's language.
	if err := Migrate(locale.WithContext(ctx, c.Locale), db, service, migrations); err != nil {
		return nil, err
	}
	log.Debug("database ready", "service", service, "dialect", db.Dialector.Name())
	return db, nil
}

func openSQLite(dir, service string, gcfg *gorm.Config) (*gorm.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("CRM_DATA_DIR %q cannot be created: %w", dir, err)
	}
	path := filepath.Join(dir, service+".db")
	// mmap_size: a connection reads pages through a mapping of the file.
	// In WAL mode another connection's write empties every other page
	// cache, and reading the pages again with a system call each was a
	// fifth of the notifier's CPU under load.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=mmap_size(268435456)&_txlock=immediate"
	// Each connection keeps its statements compiled (sqliteDialect); a
	// statement is prepared anew once it falls out of the most recent
	// 512, or when a migration changes the schema.
	scfg := *gcfg
	scfg.PrepareStmt, scfg.PrepareStmtMaxSize = true, 512
	db, err := gorm.Open(openSQLiteDialect(dsn), &scfg)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// One writer at a time is SQLite's rule (transactions begin IMMEDIATE
	// and wait their turn); readers share WAL snapshots meanwhile. Every
	// connection is kept when idle: closing one drops its page cache, and
	// the next one reads the pages again (database/sql keeps two unless
	// told; a profile of the notifier showed a fifth of its CPU there).
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetMaxIdleConns(8)
	return db, nil
}

func openPostgres(ctx context.Context, url, schema string, gcfg *gorm.Config, opts []Option) (*gorm.DB, error) {
	pcfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("CRM_DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	// The service's own schema first; public holds shared extensions (pg_trgm).
	pcfg.RuntimeParams["search_path"] = schema + ",public"
	for _, o := range opts {
		o(pcfg)
	}
	sqlDB := stdlib.OpenDB(*pcfg)
	sqlDB.SetMaxOpenConns(16)
	sqlDB.SetMaxIdleConns(16)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("CRM_DATABASE_URL: PostgreSQL at %s:%d does not answer: %w", pcfg.Host, pcfg.Port, err)
	}
	if _, err := sqlDB.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// Migrate brings the store to the newest migration. On PostgreSQL an
// advisory lock keeps two replicas starting at once from racing.
func Migrate(ctx context.Context, db *gorm.DB, service string, migrations []*Migration) error {
	run := func(tx *gorm.DB) error {
		m := gormigrate.New(tx, &gormigrate.Options{
			TableName:                 "schema_migrations",
			IDColumnName:              "id",
			IDColumnSize:              255,
			UseTransaction:            true,
			ValidateUnknownMigrations: true,
		}, migrations)
		if err := m.Migrate(); err != nil {
			return fmt.Errorf("migrating %s: %w", service, err)
		}
		return nil
	}
	if !IsPostgres(db) {
		return run(db.WithContext(ctx))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	h := fnv.New64a()
	h.Write([]byte("crm-migrate/" + service))
	lock := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock)
	return run(db.WithContext(ctx))
}

// IsPostgres tells the dialect, for the few statements that differ.
func IsPostgres(db *gorm.DB) bool { return db.Dialector.Name() == "postgres" }

// Close closes the underlying pool.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// IsUniqueViolation tells whether err is a unique constraint failing, in
// either dialect.
func IsUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey)
}
