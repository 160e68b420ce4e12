package e2e

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/stacktest"
)

// What each process must show once a contract has been opened through the
// gateway: the figures of its own part of that request.
var wantMetrics = map[string][]string{
	"gateway":  {`crm_http_requests_total{code="200",handler="api",method="post"}`, `grpc_client_handled_total{grpc_code="OK",grpc_method="CreateContract"`},
	"identity": {`grpc_server_handled_total{grpc_code="OK",grpc_method="Authenticate"`, "go_goroutines"},
	"customer": {`grpc_server_handled_total{grpc_code="OK",grpc_method="CreateCustomer"`},
	"contract": {`grpc_server_handled_total{grpc_code="OK",grpc_method="CreateContract"`, `grpc_client_handled_total{grpc_code="OK",grpc_method="GetCustomer"`, "temporal_request_total"},
	"task":     {`grpc_server_handled_total{grpc_code="OK",grpc_method="ApplyTransition"`, `grpc_server_handled_total{grpc_code="OK",grpc_method="PlanConnectionTask"`, `grpc_server_handled_total{grpc_code="OK",grpc_method="RecordTask"`},
	// Local or not, an activity's latency ends in activity_execution_latency.
	"worker":   {"temporal_workflow_task_execution_latency", "activity_execution_latency", "temporal_worker_task_slots_available", `grpc_client_handled_total{grpc_code="OK",grpc_method="PlanConnectionTask"`, `grpc_client_handled_total{grpc_code="OK",grpc_method="RecordTask"`},
	"notifier": {"crm_notifier_queue_depth", "crm_notifier_messages_total", "crm_notifier_stats_up 1", `grpc_server_handled_total{grpc_code="OK",grpc_method="EnqueueTaskEvent"`},
}

func TestEveryProcessServesItsMetrics(t *testing.T) {
	t.Parallel()
	base := stacktest.FreePortRange(t, len(localstack.Components))
	s := stacktest.Start(t, stacktest.WithEnv("CRM_LOCAL_METRICS_PORT", strconv.Itoa(base)))
	admin := s.Admin(t)
	var c struct{ ID string }
	admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{"name": "Metrics", "phones": []map[string]string{{"number": "+79120000777"}}}, &c)
	admin.Must(http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": c.ID, "tariffId": "1", "address": "Tverskaya 1"}, nil)

	urls := s.MetricsURLs()
	for _, name := range localstack.Components {
		t.Run(name, func(t *testing.T) {
			var missing []string
			var body string
			// The worker's and the notifier's figures follow the request
			// by a moment.
			for deadline := time.Now().Add(20 * time.Second); ; {
				body = scrape(t, urls[name])
				missing = missing[:0]
				for _, want := range wantMetrics[name] {
					if !strings.Contains(body, want) {
						missing = append(missing, want)
					}
				}
				if len(missing) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if len(missing) > 0 {
				t.Errorf("%s does not show %q; it shows:\n%s", urls[name], missing, names(body))
			}
		})
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

// names lists the metric names a scrape shows, for a failure's message.
func names(body string) string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i > 0 {
			name = line[:i]
		}
		if strings.HasPrefix(name, "grpc_client_handled_total") {
			name = line
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return strings.Join(out, "\n")
}
