package bench

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/telecomcrm/crm/deploy/restclient"
)

// benchRoute has this many processes: a task gives that many transitions
// before it closes.
const benchRoute = 10

type process struct {
	ID string `json:"id"`
}

type taskView struct {
	ID             string  `json:"id"`
	State          string  `json:"state"`
	CurrentProcess process `json:"currentProcess"`
}

// world holds what the REST measurement works on.
type world struct {
	api       *restclient.Client
	route     string
	processes []process
	contract  string
}

// prepare makes a route of benchRoute processes (Support's, group 5) and an
// active contract to open service tasks on.
func prepare(api *restclient.Client) (*world, error) {
	w := &world{api: api}
	var ps []map[string]any
	for i := range benchRoute {
		ps = append(ps, map[string]any{"name": fmt.Sprintf("Step %d", i+1), "groupId": "5"})
	}
	var r struct {
		ID        string    `json:"id"`
		Processes []process `json:"processes"`
	}
	if err := api.Call(http.MethodPost, "/api/v1/routes", map[string]any{"name": "Benchmark", "processes": ps}, &r); err != nil {
		return nil, err
	}
	w.route, w.processes = r.ID, r.Processes
	var c struct{ ID string }
	if err := api.Call(http.MethodPost, "/api/v1/customers", map[string]any{"name": "Benchmark", "phones": []map[string]string{{"number": "+79990000001"}}}, &c); err != nil {
		return nil, err
	}
	var k struct {
		ID               string `json:"id"`
		ConnectionTaskID string `json:"connectionTaskId"`
	}
	if err := api.Call(http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": c.ID, "tariffId": "1", "address": "Benchmark"}, &k); err != nil {
		return nil, err
	}
	t := taskView{ID: k.ConnectionTaskID, State: "TASK_STATE_OPEN"}
	if err := api.Call(http.MethodGet, "/api/v1/tasks/"+t.ID, nil, &t); err != nil {
		return nil, err
	}
	for t.State == "TASK_STATE_OPEN" {
		if err := api.Call(http.MethodPost, "/api/v1/tasks/"+t.ID+":advance", map[string]any{"processId": t.CurrentProcess.ID}, &t); err != nil {
			return nil, err
		}
	}
	w.contract = k.ID
	// the connection workflow activates the contract once its task closed
	for deadline := time.Now().Add(30 * time.Second); ; {
		var got struct{ Status string }
		if err := api.Call(http.MethodGet, "/api/v1/contracts/"+k.ID, nil, &got); err != nil {
			return nil, err
		}
		if got.Status == "CONTRACT_STATUS_ACTIVE" {
			return w, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("contract %s is still %s", k.ID, got.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openTasks opens n service tasks on the benchmark route through REST,
// clients at once: each starts the task's workflow, whose first step
// writes the task. It fails on the first task not opened, as the walk
// after it needs them all.
func (w *world) openTasks(name string, clients, n int) (*Sample, []string, error) {
	ids := make([]string, n)
	s := run(name, clients, n, func(_, i int) error {
		var t taskView
		if err := w.api.Call(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": w.contract, "routeId": w.route, "title": fmt.Sprintf("bench %d", i)}, &t); err != nil {
			return err
		}
		ids[i] = t.ID
		return nil
	})
	if s.errors > 0 {
		return nil, nil, fmt.Errorf("opening tasks: %d of %d failed, the first: %w", s.errors, n, s.firstErr)
	}
	return s, ids, nil
}

// transitions advances each task along the whole route. With as many tasks
// as a multiple of clients, client c owns tasks c, c+clients, …, so a
// task's steps are sent in order by one client.
func (w *world) transitions(name string, clients int, tasks []string) *Sample {
	var mu sync.Mutex
	at := map[string]int{}
	total := len(tasks) * benchRoute
	return run(name, clients, total, func(_, i int) error {
		id := tasks[i%len(tasks)]
		mu.Lock()
		pos := at[id]
		at[id] = pos + 1
		mu.Unlock()
		return w.api.Call(http.MethodPost, "/api/v1/tasks/"+id+":advance", map[string]any{"processId": w.processes[pos].ID}, nil)
	})
}
