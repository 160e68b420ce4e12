package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/probe"
)

// A gateway serving HTTPS itself presents a certificate for its public name,
// which the probe on its own host does not check.
func TestHTTPAsksHTTPSEndpointsWhateverTheirCertificate(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := probe.HTTP(ctx, srv.URL+"/healthz"); err != nil {
		t.Fatalf("a serving HTTPS endpoint: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := probe.HTTP(ctx, srv.URL+"/healthz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("an HTTPS endpoint answering 503: got %v, want an error naming the status", err)
	}
}
