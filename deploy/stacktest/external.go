package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// freshNamespace registers a namespace of the test's own on the cluster at
// addr, with the workflows' search attributes, and waits until it is
// usable. With tlsDir it speaks mutual TLS as admin.
func freshNamespace(t *testing.T, addr, tlsDir string) string {
	t.Helper()
	name := "crm-test-" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	tc := config.Temporal{Address: addr, Namespace: name}
	if tlsDir != "" {
		tc.TLS = certs.Files(tlsDir, "admin")
	}
	c, err := temporalclient.Dial(ctx, tc, log, 30*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", TemporalEnv, err)
	}
	defer c.Close()
	if err := temporalclient.EnsureNamespace(ctx, c, name, 24*time.Hour, taskflow.SearchAttributes(), time.Minute); err != nil {
		t.Fatalf("%s: %v", TemporalEnv, err)
	}
	return name
}

// databaseBeside creates a database next to the one admin names, called
// after it (<name>_<random>), dropped when the test ends, and returns its
// URL.
func databaseBeside(t *testing.T, admin string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("CRM_TEST_DATABASE_URL: %v", err)
	}
	name := strings.TrimPrefix(u.Path, "/") + "_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("CRM_TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("dropping %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
