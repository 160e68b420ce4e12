package tracing_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/telecomcrm/crm/services/platform/tracing"
)

// One test: Start changes the process's tracer provider for good.
func TestTracingIsOffUntilStartedAndThenInstrumentsServersClientsAndHTTP(t *testing.T) {
	plain := http.NotFoundHandler()
	if tracing.Enabled() || len(tracing.ServerOptions()) != 0 || len(tracing.DialOptions()) != 0 {
		t.Fatal("tracing is on before Start")
	}
	if h := tracing.HTTP("api", plain); h == nil {
		t.Fatal("no handler")
	}
	// Nothing listens there: the exporter connects lazily, and a flush of
	// nothing needs no collector.
	shutdown, err := tracing.Start(context.Background(), "test", "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if !tracing.Enabled() || len(tracing.ServerOptions()) != 1 || len(tracing.DialOptions()) != 1 {
		t.Fatal("tracing is not on after Start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestStartAcceptsAnEndpointURL(t *testing.T) {
	for _, e := range []string{"http://127.0.0.1:4317", "https://collector.example:4317"} {
		shutdown, err := tracing.Start(context.Background(), "test", e)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = shutdown(ctx)
		cancel()
	}
}
