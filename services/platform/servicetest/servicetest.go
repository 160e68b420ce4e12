// Package servicetest runs a service the way production does, for its
// tests: on a real store (SQLite in a temporary folder, or a throwaway
// PostgreSQL database when CRM_TEST_DATABASE_URL is set), behind the same
// gRPC bootstrap and access guard, reached over a real connection.
package servicetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"gorm.io/gorm"

	"github.com/telecomcrm/crm/services/platform/auth"
	"github.com/telecomcrm/crm/services/platform/bootstrap"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/database"
	"github.com/telecomcrm/crm/services/platform/grpcclient"
	"github.com/telecomcrm/crm/services/platform/grpcserver"
)

// PostgresEnv names the variable that switches the suites to PostgreSQL.
const PostgresEnv = "CRM_TEST_DATABASE_URL"

// Key is the internal key every test stack shares.
var Key = []byte("servicetest-internal-key-0123456789abcdef")

// Logger discards, unless CRM_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("CRM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Common returns a configuration whose store is private to the test: a
// temporary data folder, and with CRM_TEST_DATABASE_URL a fresh PostgreSQL
// database dropped when the test ends.
func Common(t testing.TB) config.Common {
	t.Helper()
	// The services' tests read the default data in English; the Russian
	// seed has tests of its own.
	c := config.Common{DataDir: t.TempDir(), LogLevel: slog.LevelDebug, LogFormat: "text", Locale: "en"}
	if admin := os.Getenv(PostgresEnv); admin != "" {
		c.DatabaseURL = FreshDatabase(t, admin)
	}
	return c
}

// OnPostgres tells whether the suite runs against PostgreSQL.
func OnPostgres() bool { return os.Getenv(PostgresEnv) != "" }

// FreshDatabase creates a throwaway PostgreSQL database next to the one admin
// names, dropped when the test ends, and returns its URL.
func FreshDatabase(t testing.TB, admin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, drop, err := database.Throwaway(ctx, admin, "crm_test")
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	t.Cleanup(drop)
	return url
}

// OpenDB opens and migrates a store for service on c.
func OpenDB(t testing.TB, c config.Common, service string, migrations []*database.Migration) *gorm.DB {
	t.Helper()
	db, err := database.Open(context.Background(), c, service, Logger(), migrations)
	if err != nil {
		t.Fatalf("opening %s store: %v", service, err)
	}
	t.Cleanup(func() { _ = database.Close(db) })
	return db
}

// Server is the gRPC server a service serves on in production
// (bootstrap.GRPCServer), verifying callers with Key and logging to log,
// with the extra options a service adds in its Run.
func Server(log *slog.Logger, opts ...grpc.ServerOption) *grpcserver.Server {
	return bootstrap.GRPCServer(log, keys, nil, opts...)
}

// Serve runs a Server (logging to Logger) with the handlers register adds
// on a loopback port until the test ends, and returns its address.
func Serve(t testing.TB, register func(s *grpcserver.Server), opts ...grpc.ServerOption) string {
	t.Helper()
	srv := Server(Logger(), opts...)
	register(srv)
	return Start(t, srv)
}

// Start serves srv on a loopback port until the test ends, and returns
// its address.
func Start(t testing.TB, srv *grpcserver.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeListener(ctx, lis) }()
	t.Cleanup(func() { cancel(); <-done })
	return lis.Addr().String()
}

// Dial connects to addr; calls carry the principal of their context (see
// User and Service), or none.
func Dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcclient.Dialer{}.Dial("the service under test", addr, signing()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// DialAs connects to addr the way a service connects to another: calls
// forward the caller of the request being served, else speak as service.
func DialAs(t testing.TB, addr, service string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcclient.Dialer{Forward: auth.NewForwarder(keys, service)}.Dial("a peer of "+service, addr, signing()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var keys = auth.NewKeyring(Key)

// User returns a context whose calls act as a user with the permissions
// and groups given.
func User(ctx context.Context, id int64, permissions []string, groups ...int64) context.Context {
	p := auth.Principal{UserID: id, Login: fmt.Sprintf("user%d", id), Permissions: permissions, Groups: groups}
	return as(ctx, p)
}

// Service returns a context whose calls act as the named service.
func Service(ctx context.Context, name string) context.Context {
	return as(ctx, auth.Principal{Service: name})
}

// Permissions of the default roles, for tests that act as one of them.
var (
	Admin    = strings.Fields("customers.read customers.write contracts.read contracts.write tasks.read tasks.create tasks.work tasks.manage settings.read settings.write users.manage integrations.manage imports.run")
	Operator = strings.Fields("customers.read customers.write contracts.read contracts.write tasks.read tasks.create tasks.work settings.read")
	Viewer   = strings.Fields("customers.read contracts.read tasks.read settings.read")
)

// Fields are the request fields a refusal's BadRequest names, in order.
func Fields(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

// Reason is a refusal's ErrorInfo reason ("" when it has none).
func Reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
