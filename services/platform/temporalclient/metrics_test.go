package temporalclient_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/telecomcrm/crm/services/platform/metrics"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
)

func TestTheSDKsFiguresAreRecordedIntoTheRegistry(t *testing.T) {
	m := metrics.New()
	h, err := temporalclient.MetricsHandler(m)
	if err != nil {
		t.Fatal(err)
	}
	h.WithTags(map[string]string{"namespace": "crm"}).Counter("temporal_request").Inc(2)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `temporal_request_total{namespace="crm"} 2`) {
		t.Errorf("the scrape lacks the SDK's counter:\n%s", body)
	}
}
