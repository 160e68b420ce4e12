package e2e

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/stacktest"
)

// Two workers and two task services, as a deployment scales them: the
// callers spread their calls over both task replicas, and tasks move as on
// one. Replicas share their tables, so this needs PostgreSQL.
func TestTheWorkIsSharedByTaskReplicasAndWorkers(t *testing.T) {
	if os.Getenv("CRM_TEST_DATABASE_URL") == "" {
		t.Skip("task replicas share their tables in PostgreSQL: set CRM_TEST_DATABASE_URL")
	}
	t.Parallel()
	const processes = 9 // the components, a second worker and task service
	base := stacktest.FreePortRange(t, processes)
	s := stacktest.Start(t,
		stacktest.WithEnv("CRM_LOCAL_WORKERS", "2"),
		stacktest.WithEnv("CRM_LOCAL_TASK_REPLICAS", "2"),
		stacktest.WithEnv("CRM_LOCAL_METRICS_PORT", strconv.Itoa(base)))
	if got := s.Processes(); len(got) != processes {
		t.Fatalf("processes %v, want %d", got, processes)
	}
	pids := s.PIDs()
	for _, name := range []string{"task", "task-2", "worker", "worker-2"} {
		if pids[name] == 0 {
			t.Fatalf("%s is not running (%v)", name, pids)
		}
	}
	w := &world{t: t, s: s, admin: s.Admin(t), phone: 4000000}
	var tasks []task
	for range 4 {
		_, tk := w.contract()
		tasks = append(tasks, tk)
	}
	for _, tk := range tasks {
		var next task
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &next)
		if next.CurrentProcess.Position != 2 {
			t.Fatalf("task %s advanced to position %d, want 2", tk.ID, next.CurrentProcess.Position)
		}
	}
	// the gateway's calls alone are spread over the replicas; reads go on
	// until both have answered one
	urls := s.MetricsURLs()
	served := func(name string) bool {
		return sample(scrape(t, urls[name]), `grpc_server_handled_total{grpc_code="OK",grpc_method="GetTask",`) > 0
	}
	for deadline := time.Now().Add(20 * time.Second); !served("task") || !served("task-2"); {
		if time.Now().After(deadline) {
			t.Fatal("the reads of the tasks did not reach both task replicas")
		}
		for _, tk := range tasks {
			w.task(w.admin, tk.ID)
		}
	}
}

// sample is the value of the first series in a scrape whose line starts
// with prefix (the series are made with 0 before the first call).
func sample(body, prefix string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return v
		}
	}
	return 0
}
