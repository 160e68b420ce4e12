// Package bootstrap is the one way a service starts and stops: read its
// signing key, open and migrate its database, dial the peers it calls,
// build its gRPC server (with the idempotency ledger), then serve while
// its background loops run, all under one errgroup. When the server stops
// (its context ended or a loop failed) every loop is cancelled and waited
// for before the peers' connections and the database close.
//
// A service's Run reads as its story: Open, Dial each peer, build the
// server from the typed dependencies, Register it, Go each loop, Serve.
//
// Every service is built by NewServer(db, cfg, deps) (*Server, error),
// NewService in the notifier, whose gRPC server is one part of it, from
// its open, migrated database, its Config as read from the environment,
// and its Deps, what it uses without being configured by it: the signing
// key, the peers' clients, the clock and the logger.
package bootstrap

import (
	"context"
	"log/slog"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
	"github.com/telecomcrm/crm/services/platform/idempotency/ledger"
	"github.com/telecomcrm/crm/services/platform/mtls"
)

// Service is a service being started: what every service needs, open.
type Service struct {
	Name string
	Log  *slog.Logger
	// Key is the deployment's signing key; Keys verifies callers with it
	// and Forward signs this service's calls to its peers.
	Key     []byte
	Keys    *auth.Keyring
	Forward *auth.Forwarder
	// TLS is the service's certificate (CRM_TLS_*), nil for plaintext: it
	// serves and dials its peers over mutual TLS with it.
	TLS *mtls.Identity
	DB  *gorm.DB
	// Server is the gRPC server the service registers its handlers on.
	Server *grpcserver.Server

	loops   []func(context.Context) error
	closers []func()
}

// Open reads the signing key, opens the database with open (which
// migrates it) and builds the gRPC server. If Open succeeds, Serve (or
// Close, when the start fails later) must follow.
func Open(ctx context.Context, name string, c config.Common, log *slog.Logger, open func(context.Context) (*gorm.DB, error)) (*Service, error) {
	key, err := c.SigningKey()
	if err != nil {
		return nil, err
	}
	id, err := mtls.LoadFor(name, c.TLS, log)
	if err != nil {
		return nil, err
	}
	db, err := open(ctx)
	if err != nil {
		return nil, err
	}
	keys := auth.NewKeyring(key)
	idem := ledger.New(db)
	s := &Service{
		Name: name, Log: log, Key: key, Keys: keys, Forward: auth.NewForwarder(keys, name), TLS: id, DB: db,
		Server: GRPCServer(log, keys, id, idem.ServerOption()),
	}
	s.Go(func(ctx context.Context) error { idem.Sweep(ctx, log); return nil })
	return s, nil
}

// GRPCServer is the gRPC server a service serves on: grpcserver's chain
// behind the access guard, which verifies callers with keys, over mutual
// TLS with id (nil: plaintext), and the service's own options (Open adds
// the idempotency ledger's). The test stacks of servicetest serve on it
// too, so they run what production runs.
func GRPCServer(log *slog.Logger, keys *auth.Keyring, id *mtls.Identity, opts ...grpc.ServerOption) *grpcserver.Server {
	return grpcserver.New(log, auth.NewGuard(keys, log), append(grpcserver.TLS(id), opts...)...)
}

// Dial connects to the service peer (its component name) at addr; its
// calls carry this service's signed principal (or the forwarded caller's).
// The connection closes on Close.
func (s *Service) Dial(peer, addr string) (*grpc.ClientConn, error) {
	conn, err := grpcclient.Dialer{Forward: s.Forward, TLS: s.TLS}.Dial(peer, addr)
	if err != nil {
		return nil, err
	}
	s.Defer(func() { _ = conn.Close() })
	return conn, nil
}

// Go adds a background loop, started by Serve. A loop runs until its
// context ends; one that returns an error stops the service.
func (s *Service) Go(loop func(context.Context) error) { s.loops = append(s.loops, loop) }

// Defer adds a release run on Close, after the loops have ended; the last
// added runs first.
func (s *Service) Defer(release func()) { s.closers = append(s.closers, release) }

// Serve serves on addr and runs the loops until ctx ends or one of them
// fails, then cancels the rest, waits for them and closes everything.
func (s *Service) Serve(ctx context.Context, addr string) error {
	defer s.Close()
	g, gctx := errgroup.WithContext(ctx)
	for _, loop := range s.loops {
		g.Go(func() error { return loop(gctx) })
	}
	g.Go(func() error {
		s.Log.Info("serving", "addr", addr)
		return s.Server.Serve(gctx, addr)
	})
	return g.Wait()
}

// Close releases what Open, Dial and Defer acquired, the database last.
func (s *Service) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
	if s.DB != nil {
		_ = database.Close(s.DB)
		s.DB = nil
	}
}

// Run is the whole start of a service: Open, then setup (dial the peers,
// build and register the handlers, add the loops), then Serve on addr.
// A failing setup releases what was opened.
func Run(ctx context.Context, name string, c config.Common, log *slog.Logger, open func(context.Context) (*gorm.DB, error), addr string, setup func(*Service) error) error {
	s, err := Open(ctx, name, c, log, open)
	if err != nil {
		return err
	}
	if err := setup(s); err != nil {
		s.Close()
		return err
	}
	return s.Serve(ctx, addr)
}
