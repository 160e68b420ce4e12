// Package identity is the identity service: users and their passwords,
// roles and permissions, work groups, sessions, Telegram links and the
// audit log. The gateway asks it who is behind an access token; the other
// services ask it about group membership and whom to notify.
package identity

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"gorm.io/gorm"

	identityv1 "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/pagetoken"
	"github.com/telecomcrm/crm/services/platform/process"
)

// Name is the service's name in logs, its SQLite file and its schema.
const Name = "identity"

// Config is the identity service's configuration.
type Config struct {
	config.Common
	FirstAdmin
	// SessionIdle ends a session unused for this long.
	SessionIdle time.Duration `env:"CRM_SESSION_IDLE" envDefault:"2h"`
	// SessionMax ends a session this long after sign-in, used or not.
	SessionMax time.Duration `env:"CRM_SESSION_MAX" envDefault:"12h"`
	// TelegramBotUsername makes t.me deep links for Telegram link codes.
	TelegramBotUsername string `env:"CRM_TELEGRAM_BOT_USERNAME"`
}

// FirstAdmin is how the first admin (login admin) of a new database gets
// a password.
type FirstAdmin struct {
	// Password is the first admin's password, used only when the database
	// is new. Unset: one is generated and written to AdminPasswordFile.
	Password string `env:"CRM_ADMIN_PASSWORD"`
	// Change makes the first admin change the password at the first
	// sign-in. Only test stacks, which sign in with a known password, turn
	// it off; a generated password must be changed regardless.
	Change bool `env:"CRM_ADMIN_PASSWORD_CHANGE" envDefault:"true"`
}

// AdminPasswordFile is where a generated first admin's password is written
// (readable by its owner only), in the data folder.
func AdminPasswordFile(dataDir string) string { return filepath.Join(dataDir, "admin-password") }

// Deps are what the identity service uses and is not configured by.
type Deps struct {
	// Key signs the page tokens.
	Key []byte
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives what happens outside a request; nil discards.
	Log *slog.Logger
	// argon is the password hash's cost; unset is OWASP's.
	argon argonParams
	// sleep holds an attempt from a slowed-down address; nil waits on a
	// timer (tests record the delay instead).
	sleep func(context.Context, time.Duration) error
	// giveBack returns the memory password hashes took to the system; nil
	// is debug.FreeOSMemory (tests count the calls instead).
	giveBack func()
}

// NewServer builds the service over an open, migrated database.
func NewServer(db *gorm.DB, cfg Config, deps Deps) (*Server, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if deps.sleep == nil {
		deps.sleep = func(ctx context.Context, d time.Duration) error {
			if !process.Sleep(ctx, d) {
				return ctx.Err()
			}
			return nil
		}
	}
	if deps.giveBack == nil {
		deps.giveBack = debug.FreeOSMemory
	}
	if cfg.SessionIdle <= 0 || cfg.SessionMax <= 0 {
		return nil, fmt.Errorf("CRM_SESSION_IDLE and CRM_SESSION_MAX must be positive durations")
	}
	// Unknown logins are checked against this hash, so they take as long
	// as known ones and the answer's timing tells nothing.
	dummy, err := hashPassword(deps.argon, "not a password of anyone's")
	if err != nil {
		return nil, err
	}
	return &Server{
		// The start's hashes (this one, the first admin's) are given back
		// as the later ones are: after a quiet spell.
		giveBack:    time.AfterFunc(hashQuiet, deps.giveBack),
		store:       &store{db: db, now: deps.Now},
		revocations: newRevocations(db, deps.Log),
		pages:       pagetoken.New(deps.Key),
		cfg:         cfg,
		deps:        deps,
		log:         deps.Log,
		dummy:       dummy,
		hashing:     make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
	}, nil
}

// OpenDB opens and migrates the service's store. On a new database it
// creates the default roles, groups and the admin user; when it had to
// make up the admin's password, it writes it to AdminPasswordFile and logs
// where (never the password).
func OpenDB(ctx context.Context, c config.Common, admin FirstAdmin, log *slog.Logger) (*gorm.DB, error) {
	sd := &seed{adminPassword: admin.Password, keepPassword: !admin.Change, passwordFile: AdminPasswordFile(c.DataDir), now: time.Now}
	db, err := database.Open(ctx, c, Name, log, migrations(sd))
	if err != nil {
		return nil, err
	}
	switch {
	case sd.generated != "":
		log.Warn("created the first admin (login admin) with a generated password; it is in the file named here, readable by this user only, and must be changed at the first sign-in (set CRM_ADMIN_PASSWORD to choose it)", "file", sd.passwordFile)
	case sd.createdAdmin:
		log.Info("created the first admin (login admin) with CRM_ADMIN_PASSWORD", "must_change_password", admin.Change)
	}
	return db, nil
}

// Run serves the identity service until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	open := func(ctx context.Context) (*gorm.DB, error) { return OpenDB(ctx, cfg.Common, cfg.FirstAdmin, log) }
	return bootstrap.Run(ctx, Name, cfg.Common, log, open, cfg.Endpoints.Identity, func(svc *bootstrap.Service) error {
		srv, err := NewServer(svc.DB, cfg, Deps{Key: svc.Key, Log: log})
		if err != nil {
			return err
		}
		svc.Go(func(ctx context.Context) error { srv.sweep(ctx, time.Hour); return nil })
		svc.Go(srv.revocations.run)
		identityv1.RegisterIdentityServiceServer(svc.Server, srv)
		return nil
	})
}

// sweep purges ended sessions, old throttle counters and spent link codes
// now and then, until ctx ends.
func (s *Server) sweep(ctx context.Context, every time.Duration) {
	purge := func(ctx context.Context) {
		if err := s.store.purge(ctx, s.cfg.SessionIdle); err != nil && ctx.Err() == nil {
			s.log.Warn("purging ended sessions failed", "err", err)
		}
	}
	purge(ctx)
	process.Every(ctx, every, purge)
}
