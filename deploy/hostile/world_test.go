package hostile

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/restclient"
	"github.com/telecomcrm/crm/deploy/stacktest"
)

// spare users: one whose profile and memberships the suite changes, one
// whose sessions it ends.
const (
	spareLogin    = "hostile-spare"
	logoutLogin   = "hostile-logout"
	sparePassword = "hostile-spare-password-1"
)

type task struct {
	ID             string `json:"id"`
	State          string `json:"state"`
	CurrentProcess struct {
		ID       string `json:"id"`
		Position int    `json:"position"`
		Visit    bool   `json:"visit"`
	} `json:"currentProcess"`
	Visit *struct{ State string } `json:"visit"`
}

func (k task) open() bool { return k.State == "TASK_STATE_OPEN" }

// world is a stack with what the routes' valid requests refer to: ids by
// resource ("customer", "task", …) and the task a batch aims at.
type world struct {
	t     *testing.T
	s     *stacktest.Stack
	admin *stacktest.Client
	seq   int
	ids   map[string]string
	task  task
	// accepted: a command on the task was answered 2xx since it was made
	accepted bool
}

func newWorld(t *testing.T, s *stacktest.Stack) *world {
	w := &world{t: t, s: s, admin: s.Admin(t), ids: map[string]string{}}
	var id struct{ ID string }
	for _, login := range []string{logoutLogin, spareLogin} {
		w.admin.Must(http.MethodPost, "/api/v1/users", map[string]any{"login": login, "displayName": login, "password": sparePassword, "roles": []string{"operator"}}, &id)
	}
	w.ids["user"] = id.ID
	w.admin.Must(http.MethodPost, "/api/v1/groups", map[string]any{"name": "Hostile group"}, &id)
	w.ids["group"] = id.ID
	// a customer message's text is named by milestone and language
	w.ids["milestone"], w.ids["language"] = "contract_opened", "ru"
	w.admin.Must(http.MethodPost, "/api/v1/groups/"+id.ID+"/members", map[string]any{"userId": w.ids["user"]}, nil)
	w.admin.Must(http.MethodPost, "/api/v1/routes", map[string]any{"name": "Hostile route", "processes": []map[string]any{{"name": "Only", "groupId": id.ID}}}, &id)
	w.ids["route"] = id.ID
	w.admin.Must(http.MethodPost, "/api/v1/tariffs", map[string]any{"name": "Hostile tariff", "technology": "FTTB", "speedMbps": 100, "monthlyFee": map[string]any{"amountMinor": "1000"}}, &id)
	w.ids["tariff"] = id.ID
	var c struct {
		ID     string
		Phones []struct{ ID string }
	}
	w.admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{"name": "Hostile", "phones": []map[string]string{{"number": w.phone()}, {"number": w.phone()}}}, &c)
	w.ids["customer"], w.ids["phone"] = c.ID, c.Phones[1].ID
	// an active contract, for service tasks
	var k struct{ ID, ConnectionTaskID string }
	w.admin.Must(http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": c.ID, "tariffId": "1", "address": "Lenina 1"}, &k)
	w.ids["contract"] = k.ID
	// the spare user is a technician of route No. 1's visit process
	var r struct {
		Processes []struct {
			GroupID string
			Visit   bool
		}
	}
	w.admin.Must(http.MethodGet, "/api/v1/routes/1", nil, &r)
	for _, p := range r.Processes {
		if p.Visit {
			w.ids["visitGroup"] = p.GroupID
			w.admin.Must(http.MethodPost, "/api/v1/groups/"+p.GroupID+"/members", map[string]any{"userId": w.ids["user"]}, nil)
			break
		}
	}
	if w.ids["visitGroup"] == "" {
		t.Fatal("route No. 1 has no process that requires a visit")
	}
	tk := w.read(k.ConnectionTaskID)
	for tk.open() {
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+tk.ID+":advance", map[string]any{"processId": tk.CurrentProcess.ID}, &tk)
	}
	return w
}

// phone is a number nobody holds yet.
func (w *world) phone() string {
	w.seq++
	return fmt.Sprintf("+7913%07d", w.seq)
}

// role makes a role nobody holds, to change or remove.
func (w *world) role() {
	w.seq++
	w.ids["name"] = fmt.Sprintf("suite-%d", w.seq)
	w.admin.Must(http.MethodPost, "/api/v1/roles", map[string]any{"name": w.ids["name"], "permissions": []string{"tasks.read"}}, nil)
}

// apiToken makes a token to revoke.
func (w *world) apiToken() {
	var made struct {
		APIToken struct{ ID string } `json:"apiToken"`
	}
	w.admin.Must(http.MethodPost, "/api/v1/apiTokens", map[string]any{"name": w.unique("Machine"), "roles": []string{"viewer"}, "expiresInDays": 1}, &made)
	w.ids["apiToken"] = made.APIToken.ID
}

// webhook makes a subscription to change, remove or read the log of. It
// points at an address nothing answers, for the one event it takes.
func (w *world) webhook() {
	var made struct {
		Webhook struct{ ID string }
	}
	w.admin.Must(http.MethodPost, "/api/v1/webhooks", map[string]any{
		"name": w.unique("Hook"), "url": "https://192.0.2.10/hook", "eventKinds": []string{"WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED"},
	}, &made)
	w.ids["webhook"] = made.Webhook.ID
}

// imported checks a small import file of one customer with a contract in
// force (running it opens no task).
func (w *world) imported() {
	csv := fmt.Sprintf("Name,Phones,Tariff,Contract status\nImported %d,%s,1,active\n", w.seq, w.phone())
	resp, err := w.admin.Client.Send(http.MethodPost, "/api/v1/imports?fileName=suite.csv", "text/csv", strings.NewReader(csv))
	if err != nil || resp.Status != http.StatusCreated {
		w.t.Fatalf("checking an import: %v %d %s", err, resp.Status, resp.Raw)
	}
	var made struct{ ID string }
	if err := json.Unmarshal(resp.Raw, &made); err != nil {
		w.t.Fatal(err)
	}
	w.ids["import"] = made.ID
}

// weekdays is a Monday-to-Friday week, 09:00–18:00, as a calendar's body.
func weekdays() []map[string]any {
	week := make([]map[string]any, 7)
	for i := range week {
		week[i] = map[string]any{"startMinute": 0, "endMinute": 0}
		if i < 5 {
			week[i] = map[string]any{"startMinute": 540, "endMinute": 1080}
		}
	}
	return week
}

// calendar makes a calendar no group uses, to read, change or remove.
func (w *world) calendar() {
	var made struct{ ID string }
	w.admin.Must(http.MethodPost, "/api/v1/calendars", map[string]any{"name": w.unique("Calendar"), "timeZone": "Europe/Moscow", "week": weekdays()}, &made)
	w.ids["calendar"] = made.ID
}

func (w *world) unique(prefix string) string {
	w.seq++
	return fmt.Sprintf("%s %d", prefix, w.seq)
}

func (w *world) read(id string) task {
	w.t.Helper()
	var k task
	w.admin.Must(http.MethodGet, "/api/v1/tasks/"+id, nil, &k)
	return k
}

// freshTask opens a connection for a new customer and moves its task past
// the first process, so that it can be sent back too.
func (w *world) freshTask() {
	w.t.Helper()
	var c struct{ ID string }
	w.admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{"name": w.unique("Task holder"), "phones": []map[string]string{{"number": w.phone()}}}, &c)
	var k struct{ ConnectionTaskID string }
	w.admin.Must(http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": c.ID, "tariffId": "1", "address": "Lenina 2"}, &k)
	w.task = w.read(k.ConnectionTaskID)
	w.admin.Must(http.MethodPost, "/api/v1/tasks/"+w.task.ID+":advance", map[string]any{"processId": w.task.CurrentProcess.ID}, &w.task)
	w.ids["task"] = w.task.ID
	w.accepted = false
}

// ended opens a service task on the world's contract and cancels it, for
// a reopening.
func (w *world) ended() {
	w.t.Helper()
	var k task
	w.admin.Must(http.MethodPost, "/api/v1/tasks", map[string]any{"contractId": w.ids["contract"], "routeId": "2", "title": "Repair"}, &k)
	w.admin.Must(http.MethodPost, "/api/v1/tasks/"+k.ID+":cancel", map[string]any{"reason": "made to be reopened"}, nil)
	w.ids["task"] = k.ID
}

// atVisit moves the batch's task on to route No. 1's visit process.
func (w *world) atVisit() {
	w.t.Helper()
	w.task = w.read(w.task.ID)
	for w.task.open() && !w.task.CurrentProcess.Visit {
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+w.task.ID+":advance", map[string]any{"processId": w.task.CurrentProcess.ID}, &w.task)
	}
	if !w.task.open() {
		w.t.Fatalf("task %s closed before reaching a visit process", w.task.ID)
	}
}

// window is a booking's window nobody else's overlaps: an hour, a day
// ahead and two hours after the previous one.
func (w *world) window() (time.Time, time.Time) {
	w.seq++
	start := time.Now().Add(24*time.Hour + time.Duration(w.seq)*2*time.Hour).Truncate(time.Hour)
	return start, start.Add(time.Hour)
}

func (w *world) booking() map[string]any {
	start, end := w.window()
	return map[string]any{
		"startTime": start.Format(time.RFC3339), "endTime": end.Format(time.RFC3339),
		"technicianIds": []string{w.ids["user"]}, "note": "ring twice", "override": true,
	}
}

// booked books the batch's task's visit unless it has one.
func (w *world) booked() {
	w.t.Helper()
	w.atVisit()
	if w.task.Visit == nil {
		w.admin.Must(http.MethodPost, "/api/v1/tasks/"+w.task.ID+":bookVisit", w.booking(), nil)
		w.task = w.read(w.task.ID)
	}
}

// fixture is a valid request of a route; each call makes a new one (new
// phone numbers, logins, names), so that one accepted request does not
// make the next refused for a duplicate.
type fixture struct {
	query func(w *world) url.Values
	body  func(w *world) any
	// prepare runs before each request (a customer with room for a phone)
	prepare func(w *world)
	// as is the client the route is called with, when not the admin's
	as func(w *world) *restclient.Client
}

func q(kv ...string) func(*world) url.Values {
	return func(*world) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
}

// fixtures are the valid requests of today's routes; a route missing here
// is still tried, from an empty body.
var fixtures = map[string]fixture{
	"POST /api/v1/auth/login": {
		body: func(w *world) any { return map[string]any{"login": spareLogin, "password": sparePassword} },
		as:   func(w *world) *restclient.Client { return restclient.New(w.s.Base) },
	},
	"POST /api/v1/auth/logout": {
		body: func(*world) any { return map[string]any{} },
		as: func(w *world) *restclient.Client {
			c, err := restclient.Login(w.s.Base, logoutLogin, sparePassword)
			if err != nil {
				w.t.Fatal(err)
			}
			return c
		},
	},
	"PATCH /api/v1/auth/me": {query: q("updateMask", "displayName"), body: func(*world) any { return map[string]any{"displayName": "Admin"} }},
	"POST /api/v1/connections": {body: func(w *world) any {
		return map[string]any{"customer": map[string]any{"name": w.unique("Wizard"), "phones": []map[string]any{{"number": w.phone()}}}, "tariffId": "1", "address": "Lenina 3"}
	}},
	"POST /api/v1/contracts": {body: func(w *world) any {
		return map[string]any{"customerId": w.ids["customer"], "tariffId": "1", "address": "Lenina 4"}
	}},
	"POST /api/v1/customers": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Customer"), "email": "c@example.ru", "address": "Lenina 5", "phones": []map[string]any{{"number": w.phone(), "label": "mobile"}}}
	}},
	"PATCH /api/v1/customers/{id}": {query: q("updateMask", "name"), body: func(*world) any { return map[string]any{"name": "Renamed"} }},
	"POST /api/v1/customers/{customer_id}/phones": {
		body: func(w *world) any { return map[string]any{"number": w.phone(), "label": "work"} },
		prepare: func(w *world) {
			var c struct{ ID string }
			w.admin.Must(http.MethodPost, "/api/v1/customers", map[string]any{"name": w.unique("Phones"), "phones": []map[string]string{{"number": w.phone()}}}, &c)
			w.ids["customer"] = c.ID
		},
	},
	"POST /api/v1/groups": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Group"), "description": "made by the suite"}
	}},
	"POST /api/v1/groups/{group_id}/members": {body: func(w *world) any { return map[string]any{"userId": w.ids["user"]} }},
	"POST /api/v1/routes": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Route"), "description": "made by the suite", "processes": []map[string]any{{"name": "First", "groupId": w.ids["group"], "slaSeconds": "3600"}}}
	}},
	"PATCH /api/v1/routes/{id}": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Route"), "processes": []map[string]any{{"name": "Only", "groupId": w.ids["group"]}}}
	}},
	"GET /api/v1/tariffs": {query: q("includeInactive", "true")},
	"POST /api/v1/tariffs": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Tariff"), "technology": "GPON", "speedMbps": 200, "monthlyFee": map[string]any{"amountMinor": "2000", "currency": "RUB"}}
	}},
	"PATCH /api/v1/tariffs/{id}":  {query: q("updateMask", "name"), body: func(w *world) any { return map[string]any{"name": w.unique("Tariff")} }},
	"GET /api/v1/tariffs:suggest": {query: q("technology", "FTTB", "minSpeedMbps", "100")},
	"POST /api/v1/tasks": {body: func(w *world) any {
		return map[string]any{"contractId": w.ids["contract"], "routeId": "2", "title": "Repair", "description": "made by the suite"}
	}},
	"POST /api/v1/tasks/{id}:advance": {body: func(w *world) any {
		return map[string]any{"processId": w.task.CurrentProcess.ID, "comment": "done", "resolution": "ok"}
	}},
	"POST /api/v1/tasks/{id}:assign":      {body: func(w *world) any { return map[string]any{"processId": w.task.CurrentProcess.ID, "userId": "0"} }},
	"POST /api/v1/tasks/{id}:cancel":      {body: func(*world) any { return map[string]any{"reason": "customer changed their mind"} }},
	"POST /api/v1/tasks/{id}:reopen":      {prepare: (*world).ended, body: func(*world) any { return map[string]any{"reason": "the customer called back"} }},
	"POST /api/v1/tasks/{id}:setPriority": {body: func(*world) any { return map[string]any{"priority": "TASK_PRIORITY_HIGH"} }},
	"POST /api/v1/tasks/{id}:return": {body: func(w *world) any {
		return map[string]any{"processId": w.task.CurrentProcess.ID, "comment": "back it goes"}
	}},
	"GET /api/v1/tasks/{task_id}/visit":        {prepare: (*world).booked},
	"POST /api/v1/tasks/{task_id}:bookVisit":   {prepare: (*world).atVisit, body: func(w *world) any { return w.booking() }},
	"POST /api/v1/tasks/{task_id}:cancelVisit": {prepare: (*world).booked, body: func(*world) any { return map[string]any{"reason": "the customer asked"} }},
	"POST /api/v1/tasks/{task_id}:reportVisit": {prepare: (*world).booked, body: func(*world) any { return map[string]any{"report": "VISIT_REPORT_ON_THE_WAY"} }},
	"GET /api/v1/visits": {query: func(w *world) url.Values {
		now := time.Now()
		return url.Values{"groupId": {w.ids["visitGroup"]}, "from": {now.Format(time.RFC3339)}, "to": {now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}}
	}},
	"PUT /api/v1/groups/{group_id}/schedule": {body: func(*world) any {
		return map[string]any{"timeZone": "Europe/Moscow", "capacityPerDay": 4, "hours": map[string]any{"startMinute": 540, "endMinute": 1080, "weekdays": []int{1, 2, 3, 4, 5}}}
	}},
	"POST /api/v1/tasks/{task_id}/comments":        {body: func(*world) any { return map[string]any{"text": "a note"} }},
	"PUT /api/v1/customers/{customer_id}/channels": {body: func(*world) any { return map[string]any{"smsOptOut": true} }},
	"PUT /api/v1/customerTemplates/{milestone}/{language}": {body: func(*world) any {
		return map[string]any{"text": "{name}, договор {contract} открыт"}
	}},
	"POST /api/v1/customerTemplates:preview": {body: func(*world) any {
		return map[string]any{"milestone": "visit_booked", "language": "en", "text": "Coming {date} {from}-{to}"}
	}},
	"PUT /api/v1/requestKinds": {body: func(*world) any {
		return map[string]any{"kinds": []map[string]any{{"label": "No internet", "routeId": "2"}}}
	}},
	"POST /api/v1/telegram:link": {body: func(*world) any { return map[string]any{} }},
	"POST /api/v1/roles": {body: func(w *world) any {
		w.seq++
		return map[string]any{"name": fmt.Sprintf("suite-%d", w.seq), "description": "made by the suite", "permissions": []string{"tasks.read"}}
	}},
	"PUT /api/v1/roles/{name}":    {prepare: (*world).role, body: func(*world) any { return map[string]any{"permissions": []string{"tasks.read", "customers.read"}} }},
	"DELETE /api/v1/roles/{name}": {prepare: (*world).role},
	"POST /api/v1/apiTokens": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Machine"), "roles": []string{"viewer"}, "expiresInDays": 30}
	}},
	"POST /api/v1/apiTokens/{id}:revoke": {prepare: (*world).apiToken, body: func(*world) any { return map[string]any{} }},
	"POST /api/v1/calendars": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Calendar"), "timeZone": "Asia/Yekaterinburg", "week": weekdays(),
			"dates": []map[string]any{{"date": "2026-12-31", "hours": map[string]any{"startMinute": 0, "endMinute": 0}, "note": "New Year's Eve"}}}
	}},
	"GET /api/v1/calendars/{id}": {prepare: (*world).calendar},
	"GET /api/v1/reports/tasks": {query: func(*world) url.Values {
		today := time.Now().Format(time.DateOnly)
		return url.Values{"from": {time.Now().AddDate(0, 0, -30).Format(time.DateOnly)}, "to": {today}}
	}},
	"PUT /api/v1/calendars/{id}": {prepare: (*world).calendar, body: func(w *world) any {
		return map[string]any{"name": w.unique("Calendar"), "timeZone": "Europe/Moscow", "week": weekdays()}
	}},
	"DELETE /api/v1/calendars/{id}": {prepare: (*world).calendar},
	"POST /api/v1/webhooks": {body: func(w *world) any {
		return map[string]any{"name": w.unique("Hook"), "url": "https://192.0.2.10/hook", "eventKinds": []string{"WEBHOOK_EVENT_KIND_TASK_CLOSED"}}
	}},
	"PUT /api/v1/webhooks/{id}": {prepare: (*world).webhook, body: func(w *world) any {
		return map[string]any{"name": w.unique("Hook"), "url": "https://192.0.2.11/hook", "eventKinds": []string{"WEBHOOK_EVENT_KIND_TASK_CREATED"}, "enabled": false}
	}},
	"DELETE /api/v1/webhooks/{id}":                 {prepare: (*world).webhook},
	"GET /api/v1/webhooks/{webhook_id}/deliveries": {prepare: (*world).webhook},
	"GET /api/v1/imports/{id}":                     {prepare: (*world).imported},
	"GET /api/v1/imports/{import_id}/problems":     {prepare: (*world).imported},
	"POST /api/v1/imports/{id}:run":                {prepare: (*world).imported, body: func(*world) any { return map[string]any{} }},
	"POST /api/v1/imports/{id}:cancel":             {prepare: (*world).imported, body: func(*world) any { return map[string]any{} }},
	"POST /api/v1/users": {body: func(w *world) any {
		w.seq++
		return map[string]any{"login": fmt.Sprintf("user%d", w.seq), "displayName": "User", "password": "a-good-password-1", "roles": []string{"viewer"}}
	}},
	"PATCH /api/v1/users/{id}": {query: q("updateMask", "displayName"), body: func(*world) any { return map[string]any{"displayName": "Spare"} }},
}

// resource names what a path parameter is the id of: "{customer_id}",
// "{customer.id}" and "/customers/{id}" are customers'.
func resource(path, param string) string {
	name := strings.TrimSuffix(strings.TrimSuffix(param, "_id"), ".id")
	if name == "id" {
		before, _, _ := strings.Cut(path, "/{"+param+"}")
		name = before[strings.LastIndex(before, "/")+1:]
	}
	return strings.TrimSuffix(name, "s")
}

// fill puts the world's ids into a path's parameters.
func (w *world) fill(path string) string {
	for {
		i := strings.Index(path, "{")
		j := strings.Index(path, "}")
		if i < 0 || j < i {
			return path
		}
		id := w.ids[resource(path, path[i+1:j])]
		if id == "" {
			id = "1"
		}
		path = path[:i] + id + path[j+1:]
	}
}
