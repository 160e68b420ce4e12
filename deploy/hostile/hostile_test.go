package hostile

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telecomcrm/crm/deploy/restclient"
	"github.com/telecomcrm/crm/deploy/stacktest"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

const (
	// budget is how long refusing a client's mistake may take. A request
	// the API accepts (a valid one, or one with a tolerated oddity such as
	// an unknown query parameter) does the whole work, a connection say,
	// and is held only to patience: its time is the benchmarks' to judge.
	budget = time.Second
	// patience is how long the suite waits before it counts a request as
	// unanswered (a hang) and goes on.
	patience = 2 * time.Second
)

// TestHostileInputGetsA4xxQuicklyAndLeavesTasksWorkable sends every route
// of the OpenAPI document the hostile variants of a valid request. On
// PostgreSQL (CRM_TEST_DATABASE_URL, as CI sets it) it tries every
// variant; on SQLite, the default of `make test`, one variant of each
// kind per route, since SQLite accepts much that PostgreSQL refuses. The
// figures end in one summary line (go test -v shows it on success).
func TestHostileInputGetsA4xxQuicklyAndLeavesTasksWorkable(t *testing.T) {
	a := readAPI(t)
	full := servicetest.OnPostgres()
	s := stacktest.Start(t)
	w := newWorld(t, s)
	run := &tally{failures: map[string]map[string][]string{}}
	for _, r := range order(a.routes) {
		run.batch(w, a, r, full)
	}
	t.Log(run.summary(full))
	run.report(t)
}

// order puts the sign-in routes last, so that what they change (sessions,
// sign-in throttling) cannot touch the other batches.
func order(routes []route) []route {
	out := slices.Clone(routes)
	slices.SortStableFunc(out, func(x, y route) int {
		ax, ay := strings.HasPrefix(x.path, "/api/v1/auth/"), strings.HasPrefix(y.path, "/api/v1/auth/")
		switch {
		case ax == ay:
			return 0
		case ax:
			return 1
		}
		return -1
	})
	return out
}

// tally counts the answers and collects the failed checks by check.
type tally struct {
	tried, ok2xx, bad4xx, err5xx, other, unanswered int
	times                                           []time.Duration
	tasks, workable, endedClosed, replaced          int
	failures                                        map[string]map[string][]string // check → route → what
}

func (run *tally) fail(check string, r route, format string, args ...any) {
	if run.failures[check] == nil {
		run.failures[check] = map[string][]string{}
	}
	run.failures[check][r.String()] = append(run.failures[check][r.String()], fmt.Sprintf(format, args...))
}

// mutations are a route's hostile variants; sampled keeps the first of
// each class.
func (a *api) mutations(r route, full bool) []mutation {
	out := pathMutations(r)
	out = append(out, a.queryMutations(r)...)
	if r.body != nil {
		out = append(out, bodyMutations(a.fields(r.body, nil, 0))...)
	}
	if full {
		return out
	}
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(m mutation) bool {
		dup := seen[m.class]
		seen[m.class] = true
		return dup
	})
}

// isTaskRoute: a command on the batch's open task. Reopening works on an
// ended task of its own, which its fixture makes for each request.
func isTaskRoute(r route) bool {
	return strings.HasPrefix(r.path, "/api/v1/tasks/{") && !strings.HasSuffix(r.path, ":reopen")
}

// batch sends a route its valid request, then each hostile variant.
func (run *tally) batch(w *world, a *api, r route, full bool) {
	fx, known := fixtures[r.String()]
	count := w.counter(a, r, run)
	if isTaskRoute(r) {
		w.freshTask()
	}
	valid := mutation{name: "the valid request", class: "valid"}
	for _, m := range append([]mutation{valid}, a.mutations(r, full)...) {
		if isTaskRoute(r) {
			run.keepOpen(w, r)
		}
		if fx.prepare != nil {
			fx.prepare(w)
		}
		rq := request{path: r.path}
		if fx.query != nil {
			rq.query = fx.query(w)
		}
		if r.body != nil {
			rq.body = map[string]any{}
			if fx.body != nil {
				rq.body = fx.body(w)
			}
		}
		if m.apply != nil {
			m.apply(&rq)
		}
		rq.path = w.fill(rq.path)
		c := w.admin.Client
		if fx.as != nil {
			c = fx.as(w)
		}
		before := -1
		if count != nil {
			before = run.count(count, r)
		}
		status, raw, took, err := send(c, r.method, rq)
		run.check(r, m, status, raw, took, err)
		if isTaskRoute(r) && r.method != http.MethodGet && status >= 200 && status < 300 {
			w.accepted = true
		}
		if m.apply == nil && (known || r.body == nil) && (status < 200 || status > 299) {
			run.fail("the valid request is refused (the suite's fixture or the route is broken)", r, "%d %s", status, snippet(raw))
		}
		if count != nil && status >= 400 && status < 500 && before >= 0 {
			if after := run.count(count, r); after != before && after >= 0 {
				run.fail("a refused create wrote", r, "%s: %d, yet %d rows became %d", m.name, status, before, after)
			}
		}
	}
	if isTaskRoute(r) {
		run.stillWorkable(w, r)
	}
}

// send makes one call, waiting at most patience for the answer.
func send(c *restclient.Client, method string, rq request) (int, []byte, time.Duration, error) {
	body, err := encode(rq.body)
	if err != nil {
		return 0, nil, 0, err
	}
	target := rq.path
	if len(rq.query) > 0 {
		target += "?" + rq.query.Encode()
	}
	cp := *c
	cp.HTTP = &http.Client{Timeout: patience}
	var payload any
	if body != nil {
		payload = string(body)
	}
	start := time.Now()
	resp, err := cp.Do(method, target, payload)
	return resp.Status, resp.Raw, time.Since(start), err
}

// check holds one answer to the rules: 2xx or 4xx, within the budget, a
// 4xx as a google.rpc.Status, no database text anywhere.
func (run *tally) check(r route, m mutation, status int, raw []byte, took time.Duration, err error) {
	run.tried++
	what := m.name
	if err != nil {
		run.unanswered++
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			run.fail("no answer within 2 s (a hang)", r, "%s", what)
		} else {
			run.fail("no answer (the connection was dropped)", r, "%s: %v", what, err)
		}
		return
	}
	run.times = append(run.times, took)
	switch {
	case status >= 200 && status < 300:
		run.ok2xx++
	case status >= 400 && status < 500:
		run.bad4xx++
		var st struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		if json.Unmarshal(raw, &st) != nil || st.Code == nil || *st.Code == 0 || st.Message == nil || *st.Message == "" {
			run.fail("a 4xx without a google.rpc.Status body", r, "%s: %d %s", what, status, snippet(raw))
		}
	case status >= 500:
		run.err5xx++
		run.fail("a 5xx for a client's mistake", r, "%s: %d %s", what, status, snippet(raw))
	default:
		run.other++
		run.fail("neither 2xx nor 4xx", r, "%s: %d", what, status)
	}
	if m.name == hugeName && status != http.StatusRequestEntityTooLarge {
		run.fail("an 8 MiB body is not answered 413", r, "%d %s", status, snippet(raw))
	}
	if took > budget && (status < 200 || status >= 300) {
		run.fail("slower than 1 s", r, "%s: %d after %s", what, status, took.Round(time.Millisecond))
	}
	for _, leak := range internalText {
		if strings.Contains(string(raw), leak) {
			run.fail("internal text in the answer", r, "%s: %d %s", what, status, snippet(raw))
			break
		}
	}
}

// internalText is what only the code behind the gateway says: the
// database's, gRPC's and Temporal's own words.
var internalText = []string{"SQLSTATE", "grpc: ", "(type: ", "retryable: "}

// keepOpen keeps the batch's task open (a fresh one when an accepted
// command closed it) and, for sending back, past its first process.
func (run *tally) keepOpen(w *world, r route) {
	var k task
	if err := w.admin.Client.Call(http.MethodGet, "/api/v1/tasks/"+w.task.ID, nil, &k); err != nil {
		run.fail("the batch's task cannot be read", r, "task %s: %v", w.task.ID, err)
		w.freshTask()
		return
	}
	w.task = k
	if !k.open() {
		if !w.accepted {
			run.fail("a task closed by a command that was not accepted", r, "task %s is %s", k.ID, k.State)
		}
		run.replaced++
		w.freshTask()
		return
	}
	if strings.HasSuffix(r.path, ":return") && k.CurrentProcess.Position == 1 {
		if err := w.admin.Client.Call(http.MethodPost, "/api/v1/tasks/"+k.ID+":advance", map[string]any{"processId": k.CurrentProcess.ID}, &w.task); err != nil {
			run.fail("the batch's task cannot be advanced", r, "task %s: %v", k.ID, err)
			w.freshTask()
		}
	}
}

// stillWorkable: after the batch, its task takes a comment and an advance,
// each answered within the suite's patience (a frozen task never answers).
func (run *tally) stillWorkable(w *world, r route) {
	run.tasks++
	c := *w.admin.Client
	c.HTTP = &http.Client{Timeout: patience}
	var k task
	if err := c.Call(http.MethodGet, "/api/v1/tasks/"+w.task.ID, nil, &k); err != nil {
		run.fail("a task is not workable after a batch", r, "reading task %s: %v", w.task.ID, err)
		return
	}
	if !k.open() {
		if !w.accepted {
			run.fail("a task closed by a command that was not accepted", r, "task %s is %s", k.ID, k.State)
		}
		run.endedClosed++
		return
	}
	for _, step := range []struct {
		path string
		body any
	}{
		{"/api/v1/tasks/" + k.ID + "/comments", map[string]any{"text": "still workable?"}},
		{"/api/v1/tasks/" + k.ID + ":advance", map[string]any{"processId": k.CurrentProcess.ID}},
	} {
		start := time.Now()
		if err := c.Call(http.MethodPost, step.path, step.body, nil); err != nil {
			run.fail("a task is not workable after a batch", r, "task %s: %v after %s", k.ID, err, time.Since(start).Round(time.Millisecond))
			return
		}
	}
	run.workable++
}

// counter returns how to count what a create route writes, or nil for a
// route that creates nothing. A create is a POST on a collection.
func (w *world) counter(a *api, r route, run *tally) func() (int, error) {
	last := r.path[strings.LastIndex(r.path, "/")+1:]
	if r.method != http.MethodPost || strings.Contains(last, ":") || strings.HasPrefix(r.path, "/api/v1/auth/") {
		return nil
	}
	if _, ok := a.route(http.MethodGet, r.path); ok {
		return func() (int, error) { return w.list(a, r.path) }
	}
	parent := strings.TrimSuffix(r.path, "/"+last)
	if _, ok := a.route(http.MethodGet, parent); ok && strings.Contains(parent, "{") {
		return func() (int, error) {
			var one map[string]any
			if err := w.admin.Client.Call(http.MethodGet, w.fill(parent), nil, &one); err != nil {
				return -1, err
			}
			items, _ := one[last].([]any)
			return len(items), nil
		}
	}
	if r.path == "/api/v1/connections" {
		// the wizard writes a customer and a contract
		return func() (int, error) {
			n, err := w.list(a, "/api/v1/customers")
			m, err2 := w.list(a, "/api/v1/contracts")
			return n + m, errors.Join(err, err2)
		}
	}
	run.fail("a create the suite cannot count", r, "add a way to count what it writes")
	return nil
}

// list counts the items of a listing, page by page.
func (w *world) list(a *api, path string) (int, error) {
	query := url.Values{}
	if fx := fixtures["GET "+path]; fx.query != nil {
		query = fx.query(w)
	}
	query.Set("pageSize", "100")
	n := 0
	for page := 0; page < 1000; page++ {
		var out map[string]any
		if err := w.admin.Client.Call(http.MethodGet, w.fill(path)+"?"+query.Encode(), nil, &out); err != nil {
			return -1, err
		}
		for _, v := range out {
			if items, ok := v.([]any); ok {
				n += len(items)
			}
		}
		next, _ := out["nextPageToken"].(string)
		if next == "" {
			return n, nil
		}
		query.Set("pageToken", next)
	}
	return -1, fmt.Errorf("%s: more than 1000 pages", path)
}

func (run *tally) count(count func() (int, error), r route) int {
	n, err := count()
	if err != nil {
		run.fail("a listing the suite counts with failed", r, "%v", err)
		return -1
	}
	return n
}

// summary is the suite's figures in one line.
func (run *tally) summary(full bool) string {
	mode := "SQLite, one variant of each kind per route"
	if full {
		mode = "PostgreSQL, every variant"
	}
	slices.Sort(run.times)
	p99 := time.Duration(0)
	if len(run.times) > 0 {
		p99 = run.times[(len(run.times)*99+99)/100-1]
	}
	return fmt.Sprintf("hostile input (%s): %d requests tried: %d 2xx, %d 4xx, %d 5xx, %d other, %d unanswered; p99 %s; %d failed checks; tasks still workable %d/%d (%d closed by an accepted command at the end, %d replaced mid-batch after one)",
		mode, run.tried, run.ok2xx, run.bad4xx, run.err5xx, run.other, run.unanswered, p99.Round(time.Millisecond), run.failed(), run.workable, run.tasks, run.endedClosed, run.replaced)
}

func (run *tally) failed() int {
	n := 0
	for _, byRoute := range run.failures {
		for _, f := range byRoute {
			n += len(f)
		}
	}
	return n
}

// report fails the test once per check, with its count and examples.
func (run *tally) report(t *testing.T) {
	for _, c := range slices.Sorted(maps.Keys(run.failures)) {
		byRoute := run.failures[c]
		var b strings.Builder
		n := 0
		for _, r := range slices.Sorted(maps.Keys(byRoute)) {
			f := byRoute[r]
			n += len(f)
			fmt.Fprintf(&b, "\n  %s (%d): %s", r, len(f), strings.Join(f[:min(len(f), 6)], "; "))
		}
		t.Errorf("%s: %d times on %d routes:%s", c, n, len(byRoute), b.String())
	}
}

func snippet(raw []byte) string {
	s := strings.ToValidUTF8(string(raw), "?")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
