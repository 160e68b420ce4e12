package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/stacktest"
)

type process struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	GroupID  string `json:"groupId"`
	Position int    `json:"position"`
	Visit    bool   `json:"visit"`
}

type task struct {
	ID             string    `json:"id"`
	Number         string    `json:"number"`
	Kind           string    `json:"kind"`
	State          string    `json:"state"`
	CurrentProcess process   `json:"currentProcess"`
	Processes      []process `json:"processes"`
	CloseReason    string    `json:"closeReason"`
	ContractID     string    `json:"contractId"`
	CustomerID     string    `json:"customerId"`
	Description    string    `json:"description"`
	WorkflowID     string    `json:"workflowId"`
	Title          string    `json:"title"`
	RouteID        string    `json:"routeId"`
}

type event struct {
	Kind        string `json:"kind"`
	ProcessName string `json:"processName"`
	Text        string `json:"text"`
}

// world is one stack with a customer and what the tests add to it.
type world struct {
	t     *testing.T
	s     *stacktest.Stack
	admin *stacktest.Client
	phone int
}

func newWorld(t *testing.T) *world {
	s := stacktest.Start(t)
	return &world{t: t, s: s, admin: s.Admin(t), phone: 1000000}
}

// contract opens a contract for a new customer and returns it with its
// connection task.
func (w *world) contract() (contractID string, t task) {
	w.t.Helper()
	w.phone++
	var c struct{ ID string }
	w.admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{"name": "Customer", "phones": []map[string]string{{"number": fmt.Sprintf("+7912%07d", w.phone)}}}, &c)
	var k struct {
		ID               string `json:"id"`
		Status           string `json:"status"`
		ConnectionTaskID string `json:"connectionTaskId"`
	}
	w.admin.Must(http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": c.ID, "tariffId": "1", "address": "Tverskaya 1"}, &k)
	if k.Status != "CONTRACT_STATUS_PENDING" || k.ConnectionTaskID == "" || k.ConnectionTaskID == "0" {
		w.t.Fatalf("contract %+v: want PENDING with its connection task", k)
	}
	return k.ID, w.task(w.admin, k.ConnectionTaskID)
}

func (w *world) task(c *stacktest.Client, id string) task {
	w.t.Helper()
	var t task
	c.Must(http.MethodGet, "/api/v1/tasks/"+id, nil, &t)
	return t
}

func (w *world) events(id string) []event {
	w.t.Helper()
	var out struct {
		TaskEvents []event `json:"taskEvents"`
	}
	w.admin.Must(http.MethodGet, "/api/v1/tasks/"+id+"/events?pageSize=500", nil, &out)
	return out.TaskEvents
}

// activeContract runs a connection to its end and returns the contract.
func (w *world) activeContract() string {
	w.t.Helper()
	id, t := w.contract()
	for t.State == "TASK_STATE_OPEN" {
		var next task
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+t.ID+":advance", map[string]any{"processId": t.CurrentProcess.ID}, &next)
		if next.CurrentProcess.ID == t.CurrentProcess.ID && next.State == "TASK_STATE_OPEN" {
			w.t.Fatalf("advance answered the task unmoved: %+v", next)
		}
		w.t.Logf("advanced %s: %s at %q", t.Number, next.State, next.CurrentProcess.Name)
		t = next
	}
	w.waitContract(id, "CONTRACT_STATUS_ACTIVE")
	return id
}

func (w *world) waitContract(id, status string) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var k struct{ Status string }
		w.admin.Must(http.MethodGet, "/api/v1/contracts/"+id, nil, &k)
		if k.Status == status {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("contract %s is %s, want %s", id, k.Status, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// route creates a service route.
func (w *world) route(body map[string]any) (id string, processes []process) {
	w.t.Helper()
	var r struct {
		ID        string    `json:"id"`
		Processes []process `json:"processes"`
	}
	w.admin.Must(http.MethodPost, "/api/v1/routes", body, &r)
	return r.ID, r.Processes
}

func TestTaskWorkflowsThroughTheWholeStack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)

	// A route's follow-up is set up first and looked at last: its minute
	// passes while the other cases run, and a worker is killed meanwhile.
	var followUp struct{ contract, route, closed string }
	t.Run("a task closed on a route with a follow-up", func(t *testing.T) {
		w.t = t
		followUp.contract = w.activeContract()
		feedback, _ := w.route(map[string]any{"name": "Feedback", "processes": []map[string]any{{"name": "Call back", "groupId": "5"}}})
		lineCheck, _ := w.route(map[string]any{
			"name":      "Line check",
			"processes": []map[string]any{{"name": "Measure the line", "groupId": "5"}},
			"followUps": []map[string]any{{"routeId": feedback, "afterSeconds": "60", "title": "Ask how the line works", "description": "A minute after the check"}},
		})
		followUp.route = feedback
		var tk task
		w.admin.Must(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": followUp.contract, "routeId": lineCheck, "title": "Line check"}, &tk)
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &tk)
		if tk.State != "TASK_STATE_CLOSED" {
			t.Fatalf("the line check %+v", tk)
		}
		followUp.closed = tk.ID
		// a follow-up that refers to route No. 1 is refused
		resp := w.admin.Do(http.MethodPost, "/api/v1/routes", map[string]any{
			"name":      "Bad",
			"processes": []map[string]any{{"name": "x", "groupId": "5"}},
			"followUps": []map[string]any{{"routeId": "1", "afterSeconds": "60", "title": "x"}},
		})
		if resp.Status != 400 || !strings.Contains(string(resp.Raw), "followUps[0].routeId") {
			t.Fatalf("a follow-up on route No. 1: %d %s", resp.Status, resp.Raw)
		}
	})

	t.Run("connection task walks route No. 1 with a comment at each process and activates the contract", func(t *testing.T) {
		w.t = t
		contractID, tk := w.contract()
		if tk.Kind != "TASK_KIND_CONNECTION" || tk.CurrentProcess.Name != "Проверка заявки" || len(tk.Processes) != 5 || tk.WorkflowID != "task-"+tk.ID {
			t.Fatalf("connection task %+v", tk)
		}
		for i := range 5 {
			w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+"/comments", map[string]string{"text": fmt.Sprintf("note %d", i+1)}, nil)
			w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &tk)
		}
		if tk.State != "TASK_STATE_CLOSED" || tk.CloseReason != "ROUTE_COMPLETED" {
			t.Fatalf("after the last process: %+v", tk)
		}
		var comments struct {
			Comments []struct {
				Text        string `json:"text"`
				ProcessName string `json:"processName"`
			} `json:"comments"`
		}
		w.admin.Must(http.MethodGet, "/api/v1/tasks/"+tk.ID+"/comments", nil, &comments)
		want := []string{"Проверка заявки", "Техническая возможность", "Монтаж", "Активация", "Контрольный звонок"}
		if len(comments.Comments) != 5 {
			t.Fatalf("comments %+v", comments.Comments)
		}
		for i, c := range comments.Comments {
			if c.ProcessName != want[i] || c.Text != fmt.Sprintf("note %d", i+1) {
				t.Errorf("comment %d: %+v, want in %s", i, c, want[i])
			}
		}
		if n := len(w.events(tk.ID)); n != 1+5+4+1 {
			t.Errorf("%d timeline events, want created + 5 comments + 4 advances + closed", n)
		}
		w.waitContract(contractID, "CONTRACT_STATUS_ACTIVE")
	})

	t.Run("service task on route No. 1 or a cancelled contract is refused", func(t *testing.T) {
		w.t = t
		contractID, tk := w.contract()
		resp := w.admin.Do(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": contractID, "routeId": "1", "title": "x"})
		if resp.Status != 400 {
			t.Fatalf("route 1: %d %s", resp.Status, resp.Raw)
		}
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":cancel", map[string]string{"reason": "customer changed their mind"}, &tk)
		if tk.State != "TASK_STATE_CANCELLED" {
			t.Fatalf("cancelled connection: %+v", tk)
		}
		w.waitContract(contractID, "CONTRACT_STATUS_CANCELLED")
		resp = w.admin.Do(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": contractID, "routeId": "2", "title": "repair"})
		if resp.Status != 400 {
			t.Fatalf("service task on a cancelled contract: %d %s", resp.Status, resp.Raw)
		}
		resp = w.admin.Do(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{})
		if resp.Status != 400 {
			t.Fatalf("advance on a cancelled task: %d %s", resp.Status, resp.Raw)
		}
	})

	t.Run("service task closes by its idle rule", func(t *testing.T) {
		w.t = t
		contractID := w.activeContract()
		routeID, _ := w.route(map[string]any{
			"name":       "Callback",
			"processes":  []map[string]any{{"name": "Call the customer", "groupId": "5"}},
			"closeRules": []map[string]any{{"kind": "CLOSE_RULE_KIND_IDLE", "idleSeconds": "2", "outcome": "TASK_STATE_CLOSED"}},
		})
		var tk task
		w.admin.Must(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": contractID, "routeId": routeID, "title": "Call back"}, &tk)
		deadline := time.Now().Add(30 * time.Second)
		for tk.State == "TASK_STATE_OPEN" && time.Now().Before(deadline) {
			time.Sleep(250 * time.Millisecond)
			tk = w.task(w.admin, tk.ID)
		}
		if tk.State != "TASK_STATE_CLOSED" || tk.CloseReason != "IDLE" {
			t.Fatalf("task %+v, want closed by its idle rule", tk)
		}
	})

	t.Run("the seeded tariff-change route changes the contract's tariff with its automatic process", func(t *testing.T) {
		w.t = t
		contractID := w.activeContract()
		var routes struct {
			Routes []struct {
				ID        string `json:"id"`
				Processes []struct {
					Kind   string `json:"kind"`
					Action struct {
						ContractOperation string `json:"contractOperation"`
					} `json:"action"`
				} `json:"processes"`
			} `json:"routes"`
		}
		w.admin.Must(http.MethodGet, "/api/v1/routes", nil, &routes)
		routeID := ""
		for _, r := range routes.Routes {
			last := r.Processes[len(r.Processes)-1]
			if last.Kind == "PROCESS_KIND_AUTOMATIC" && last.Action.ContractOperation == "CONTRACT_OPERATION_CHANGE_TARIFF" {
				routeID = r.ID
			}
		}
		var tariffs struct {
			Tariffs []struct {
				ID           string `json:"id"`
				CustomerKind string `json:"customerKind"`
				Active       bool   `json:"active"`
			} `json:"tariffs"`
		}
		w.admin.Must(http.MethodGet, "/api/v1/tariffs", nil, &tariffs)
		tariffID := ""
		for _, tf := range tariffs.Tariffs {
			if tf.ID != "1" && tf.Active && tf.CustomerKind == "CUSTOMER_KIND_PERSON" && tariffID == "" {
				tariffID = tf.ID
			}
		}
		if routeID == "" || tariffID == "" {
			t.Fatalf("no seeded route ending with a tariff change (%q) or no second tariff for persons (%q)", routeID, tariffID)
		}
		resp := w.admin.Do(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": contractID, "routeId": routeID, "title": "Tariff change"})
		if resp.Status != 400 {
			t.Fatalf("a tariff change without its tariff: %d %s, want 400", resp.Status, resp.Raw)
		}
		var tk task
		w.admin.Must(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": contractID, "routeId": routeID, "title": "Tariff change", "parameters": map[string]string{"tariffId": tariffID}}, &tk)
		for tk.State == "TASK_STATE_OPEN" && tk.CurrentProcess.ID != tk.Processes[len(tk.Processes)-1].ID {
			w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &tk)
		}
		deadline := time.Now().Add(30 * time.Second)
		for tk.State == "TASK_STATE_OPEN" && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			tk = w.task(w.admin, tk.ID)
		}
		if tk.State != "TASK_STATE_CLOSED" {
			t.Fatalf("tariff-change task %+v, want closed by its automatic process", tk)
		}
		var k struct {
			TariffID string `json:"tariffId"`
			Status   string `json:"status"`
		}
		w.admin.Must(http.MethodGet, "/api/v1/contracts/"+contractID, nil, &k)
		if k.TariffID != tariffID || k.Status != "CONTRACT_STATUS_ACTIVE" {
			t.Fatalf("contract after the tariff change: %+v, want tariff %s, active", k, tariffID)
		}
	})

	t.Run("two users advance the same task at once: exactly one wins, 100 times", func(t *testing.T) {
		w.t = t
		contractID := w.activeContract()
		routeID, ps := w.route(map[string]any{
			"name":      "Ping-pong",
			"processes": []map[string]any{{"name": "One", "groupId": "5"}, {"name": "Two", "groupId": "5"}},
		})
		w.admin.Must(http.MethodPost, "/api/v1/users", map[string]any{"login": "rival", "displayName": "Rival", "password": "rival-password-1", "roles": []string{"engineer"}}, nil)
		var users struct {
			Users []struct{ ID, Login string } `json:"users"`
		}
		w.admin.Must(http.MethodGet, "/api/v1/users?query=rival", nil, &users)
		w.admin.Must(http.MethodPost, "/api/v1/groups/5/members", map[string]any{"userId": users.Users[0].ID}, nil)
		rival := w.s.Login(t, "rival", "rival-password-1")

		var tk task
		w.admin.Must(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": contractID, "routeId": routeID, "title": "Race"}, &tk)
		for round := range 100 {
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for i, c := range []*stacktest.Client{w.admin, rival} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = c.Do(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": ps[0].ID}).Status
				}()
			}
			wg.Wait()
			if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
				t.Fatalf("round %d: answers %v, want one 200 and one 409", round, codes)
			}
			w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":return", map[string]any{"processId": ps[1].ID, "comment": "again"}, &tk)
		}
		if n := len(w.events(tk.ID)); n != 1+200 {
			t.Fatalf("%d events, want created + 100 advances + 100 returns", n)
		}
	})

	t.Run("worker killed mid-route: the task goes on and nothing is doubled", func(t *testing.T) {
		w.t = t
		_, tk := w.contract()
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID, "comment": "before"}, &tk)
		if err := w.s.Kill("worker"); err != nil {
			t.Fatal(err)
		}
		// sent while no worker runs: it waits for the restarted one
		for tk.State == "TASK_STATE_OPEN" {
			w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID, "comment": "after " + tk.CurrentProcess.Name}, &tk)
		}
		evs := w.events(tk.ID)
		if len(evs) != 1+4+1 {
			t.Fatalf("%d events, want created + 4 advances + closed: %+v", len(evs), evs)
		}
		seen := map[string]bool{}
		for _, e := range evs[1:] {
			if seen[e.Text] {
				t.Fatalf("event %q written twice", e.Text)
			}
			seen[e.Text] = true
		}
	})
	t.Run("the follow-up opens its task on the same contract a minute after the close, once", func(t *testing.T) {
		w.t = t
		if followUp.closed == "" {
			t.Fatal("its task was not closed")
		}
		deadline := time.Now().Add(3 * time.Minute)
		for {
			var tasks struct {
				Tasks []task `json:"tasks"`
			}
			w.admin.Must(http.MethodGet, "/api/v1/tasks?contractId="+followUp.contract+"&pageSize=100", nil, &tasks)
			var opened []task
			for _, tk := range tasks.Tasks {
				if tk.RouteID == followUp.route {
					opened = append(opened, tk)
				}
			}
			if len(opened) > 1 {
				t.Fatalf("the follow-up opened %d tasks: %+v", len(opened), opened)
			}
			if len(opened) == 1 {
				got := w.task(w.admin, opened[0].ID)
				if got.Title != "Ask how the line works" || got.Description != "A minute after the check" || got.Kind != "TASK_KIND_SERVICE" || got.State != "TASK_STATE_OPEN" {
					t.Fatalf("the follow-up's task %+v", got)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no follow-up task on route %s three minutes after task %s closed", followUp.route, followUp.closed)
			}
			time.Sleep(time.Second)
		}
	})
}
