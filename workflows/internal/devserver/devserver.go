// Package devserver starts a Temporal dev server for a test, from the
// Temporal CLI that make builds (or CRM_TEMPORAL_BIN).
package devserver

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"go.temporal.io/sdk/testsuite"
)

// Start runs a dev server with args added to its command line until the
// test ends.
func Start(t testing.TB, args ...string) *testsuite.DevServer {
	t.Helper()
	bin := os.Getenv("CRM_TEMPORAL_BIN")
	if bin == "" {
		_, here, _, _ := runtime.Caller(0)
		matches, _ := filepath.Glob(filepath.Join(filepath.Dir(here), "../../../.bin/temporal-*/temporal"))
		if len(matches) == 0 {
			t.Fatal("no Temporal CLI: run make tools or set CRM_TEMPORAL_BIN")
		}
		bin = matches[0]
	}
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{ExistingPath: bin, LogLevel: "error", ExtraArgs: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}
