package drill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// workload is the drill's work: clients that each open a contract for a
// new customer, walk its connection task along route No. 1 and, once the
// contract is active, open a service task on it and walk that too — with
// a comment in every process, some tasks sent back, some cancelled, some
// closed by a resolution, some left open.
type workload struct {
	w   *world
	c   *caller
	l   *ledger
	opt Options

	budget  atomic.Int64 // tasks still to open
	created atomic.Int64
	jobs    atomic.Int64
	failed  atomic.Int64 // jobs that ended before their task existed
}

func newWorkload(w *world, l *ledger, opt Options) *workload {
	wl := &workload{w: w, c: w.c, l: l, opt: opt}
	wl.budget.Store(int64(opt.Tasks))
	return wl
}

// progress is the share of the tasks opened so far.
func (wl *workload) progress() float64 {
	return float64(wl.created.Load()) / float64(max(wl.opt.Tasks, 1))
}

func (wl *workload) take() bool {
	if wl.budget.Add(-1) >= 0 {
		return true
	}
	wl.budget.Add(1)
	return false
}

// giveBack returns a ticket of a job that ended before its task existed,
// unless too many did (then something is badly wrong and the run ends).
func (wl *workload) giveBack() {
	if wl.failed.Add(1) <= int64(max(20, wl.opt.Tasks/20)) {
		wl.budget.Add(1)
	}
}

// run lets the clients work until every task is opened and walked.
func (wl *workload) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range wl.opt.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(wl.opt.Seed), uint64(i)))
			for ctx.Err() == nil && wl.take() {
				j := &job{wl: wl, id: int(wl.jobs.Add(1)), rng: rng}
				j.run(ctx)
			}
		}()
	}
	wg.Wait()
}

// job is one client's piece of work.
type job struct {
	wl  *workload
	id  int
	rng *rand.Rand
	n   int // texts written so far
}

func (j *job) text(what string) string {
	j.n++
	return token(j.id, j.n) + " " + what
}

func (j *job) stats() *counters { return j.wl.c.stats }

func (j *job) fail(format string, args ...any) {
	j.stats().refuse("job %d: "+format, append([]any{j.id}, args...)...)
}

func (j *job) run(ctx context.Context) {
	w := j.wl.w
	sales := w.group[groupSales][j.rng.IntN(len(w.group[groupSales]))]
	customer, err := j.customer(ctx, sales)
	if err != nil {
		j.fail("%v", err)
		j.wl.giveBack()
		return
	}
	t, err := j.contract(ctx, sales, customer)
	if err != nil {
		j.fail("%v", err)
		j.wl.giveBack()
		return
	}
	j.wl.created.Add(1)
	j.walk(ctx, t, j.plan(t))
	if t.State != stateClosed || t.Abandoned != "" || !j.wl.take() {
		return
	}
	if err := j.waitActive(ctx, sales, t.Contract); err != nil {
		j.fail("%v", err)
		j.wl.giveBack()
		return
	}
	s, err := j.serviceTask(ctx, sales, t.Contract)
	if err != nil {
		j.fail("%v", err)
		j.wl.giveBack()
		return
	}
	j.wl.created.Add(1)
	j.walk(ctx, s, j.plan(s))
}

// customer registers a new customer with a phone of the job's own.
func (j *job) customer(ctx context.Context, u *user) (string, error) {
	phone := fmt.Sprintf("+7999%07d", j.id)
	body := map[string]any{"name": fmt.Sprintf("Drill customer %d", j.id), "address": "Drill street 1", "phones": []map[string]string{{"number": phone}}}
	a := j.wl.c.call(ctx, u, http.MethodPost, "/api/v1/customers", body)
	var c struct {
		ID string `json:"id"`
	}
	switch {
	case a.ok():
		if a.retried {
			j.stats().retried.Add(1)
		}
		_ = a.decode(&c)
	case a.err == nil && a.retried && a.status == http.StatusConflict:
		// The lost attempt registered them: the number is theirs now.
		j.stats().retried.Add(1)
		var found struct {
			Customers []struct {
				ID string `json:"id"`
			} `json:"customers"`
		}
		if err := j.wl.c.call(ctx, u, http.MethodGet, "/api/v1/customers?query="+url.QueryEscape(phone), nil).decode(&found); err != nil || len(found.Customers) != 1 {
			return "", fmt.Errorf("customer with %s: taken, and not found (%v)", phone, err)
		}
		j.stats().lookedUp.Add(1)
		c.ID = found.Customers[0].ID
	default:
		return "", fmt.Errorf("registering a customer: %v", describeAnswer(a))
	}
	j.wl.l.addCustomer(c.ID)
	return c.ID, nil
}

func describeAnswer(a answer) string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, clip(string(a.raw), 300))
}

type contractView struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	ConnectionTaskID string `json:"connectionTaskId"`
}

type taskView struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	State          string    `json:"state"`
	Title          string    `json:"title"`
	ContractID     string    `json:"contractId"`
	CurrentProcess process   `json:"currentProcess"`
	Processes      []process `json:"processes"`
	CloseReason    string    `json:"closeReason"`
	WorkflowID     string    `json:"workflowId"`
}

// contract opens a contract for the customer and returns its connection
// task. After an attempt whose fate is unknown the client looks for the
// contract before opening another.
func (j *job) contract(ctx context.Context, u *user, customer string) (*taskRecord, error) {
	c := j.wl.c
	body := map[string]any{"customerId": customer, "tariffId": "1", "address": fmt.Sprintf("Drill street %d", j.id)}
	for {
		a := c.once(ctx, u, http.MethodPost, "/api/v1/contracts", body)
		var k contractView
		switch {
		case a.ok():
			if err := a.decode(&k); err != nil {
				return nil, err
			}
			return j.connectionTask(ctx, u, k.ID, k.ConnectionTaskID)
		case a.err != nil:
			return nil, a.err
		case !a.retried:
			return nil, fmt.Errorf("opening a contract: %v", describeAnswer(a))
		}
		j.stats().retried.Add(1)
		c.settle(ctx)
		contractID, taskID, stray := j.findContract(ctx, u, customer)
		if taskID != "" {
			j.stats().lookedUp.Add(1)
			return j.connectionTask(ctx, u, contractID, taskID)
		}
		for _, id := range stray {
			j.wl.l.addStrayContract(id)
		}
	}
}

// findContract looks for the customer's contract and its connection task
// for a while (a new contract waits up to 20 s for its task); it returns
// the contracts that have none by then.
func (j *job) findContract(ctx context.Context, u *user, customer string) (contract, task string, stray []string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct {
			Contracts []contractView `json:"contracts"`
		}
		stray = nil
		if err := j.wl.c.call(ctx, u, http.MethodGet, "/api/v1/contracts?customerId="+customer, nil).decode(&list); err == nil {
			for _, k := range list.Contracts {
				if k.ConnectionTaskID != "" && k.ConnectionTaskID != "0" {
					return k.ID, k.ConnectionTaskID, nil
				}
				var tasks struct {
					Tasks []taskView `json:"tasks"`
				}
				if err := j.wl.c.call(ctx, u, http.MethodGet, "/api/v1/tasks?contractId="+k.ID, nil).decode(&tasks); err == nil {
					for _, t := range tasks.Tasks {
						if t.Kind == kindConnection {
							return k.ID, t.ID, nil
						}
					}
				}
				stray = append(stray, k.ID)
			}
			if len(list.Contracts) == 0 && time.Now().After(deadline.Add(-20*time.Second)) {
				return "", "", nil
			}
		}
		if time.Now().After(deadline) || !sleep(ctx, 500*time.Millisecond) {
			return "", "", stray
		}
	}
}

func (j *job) connectionTask(ctx context.Context, u *user, contractID, taskID string) (*taskRecord, error) {
	var t taskView
	if err := j.wl.c.call(ctx, u, http.MethodGet, "/api/v1/tasks/"+taskID, nil).decode(&t); err != nil {
		return nil, fmt.Errorf("reading connection task %s of contract %s: %w", taskID, contractID, err)
	}
	r := &taskRecord{Job: j.id, Kind: kindConnection, ID: t.ID, Title: t.Title, Contract: contractID, Processes: t.Processes, State: stateOpen}
	j.wl.l.addTask(r)
	return r, nil
}

// waitActive waits until the connection workflow has activated the
// contract (its last activity after the task closed).
func (j *job) waitActive(ctx context.Context, u *user, contractID string) error {
	deadline := time.Now().Add(j.wl.c.timeout)
	for {
		var k contractView
		if err := j.wl.c.call(ctx, u, http.MethodGet, "/api/v1/contracts/"+contractID, nil).decode(&k); err != nil {
			return err
		}
		if k.Status == contractActive {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("contract %s is %s %s after its connection task closed", contractID, k.Status, j.wl.c.timeout)
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// serviceTask opens a service task on the drill's route; after an attempt
// whose fate is unknown the client looks for it (by its title) first.
func (j *job) serviceTask(ctx context.Context, u *user, contractID string) (*taskRecord, error) {
	c := j.wl.c
	title := fmt.Sprintf("Drill service visit %d", j.id)
	body := map[string]any{"contractId": contractID, "routeId": j.wl.w.serviceRoute, "title": title, "description": "Opened by the fault drill"}
	for {
		a := c.once(ctx, u, http.MethodPost, "/api/v1/tasks", body)
		var t taskView
		switch {
		case a.ok():
			if err := a.decode(&t); err != nil {
				return nil, err
			}
		case a.err != nil:
			return nil, a.err
		case !a.retried:
			return nil, fmt.Errorf("opening a service task: %v", describeAnswer(a))
		default:
			j.stats().retried.Add(1)
			c.settle(ctx)
			id := j.findTask(ctx, u, contractID, title)
			if id == "" {
				continue
			}
			j.stats().lookedUp.Add(1)
			if err := c.call(ctx, u, http.MethodGet, "/api/v1/tasks/"+id, nil).decode(&t); err != nil {
				return nil, err
			}
		}
		r := &taskRecord{Job: j.id, Kind: kindService, ID: t.ID, Title: title, Contract: contractID, Processes: t.Processes, State: stateOpen}
		if len(r.Processes) == 0 {
			r.Processes = j.wl.w.service
		}
		j.wl.l.addTask(r)
		return r, nil
	}
}

func (j *job) findTask(ctx context.Context, u *user, contractID, title string) string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct {
			Tasks []taskView `json:"tasks"`
		}
		if err := j.wl.c.call(ctx, u, http.MethodGet, "/api/v1/tasks?contractId="+contractID, nil).decode(&list); err == nil {
			for _, t := range list.Tasks {
				if t.Title == title {
					return t.ID
				}
			}
		}
		if time.Now().After(deadline) || !sleep(ctx, 500*time.Millisecond) {
			return ""
		}
	}
}

// plan is how a client will treat a task.
type plan struct {
	outcome  string // complete, cancel, resolution, open
	stopAt   int    // where a task that is not completed stops
	returnAt int    // where it is sent back once (-1: never)
}

func (j *job) plan(t *taskRecord) plan {
	n := len(t.Processes)
	p := plan{outcome: "complete", stopAt: j.rng.IntN(n), returnAt: -1}
	switch x := j.rng.Float64(); {
	case x < j.wl.opt.OpenShare:
		p.outcome = "open"
	case x < j.wl.opt.OpenShare+j.wl.opt.CancelShare:
		p.outcome = "cancel"
	case t.Kind == kindConnection && x < j.wl.opt.OpenShare+j.wl.opt.CancelShare+j.wl.opt.ResolutionShare:
		p.outcome = "resolution"
	}
	if n > 1 && j.rng.Float64() < j.wl.opt.ReturnShare {
		p.returnAt = 1 + j.rng.IntN(n-1)
	}
	return p
}

func (j *job) member(groupID string) *user {
	m := j.wl.w.group[groupID]
	return m[j.rng.IntN(len(m))]
}

// walk carries the task along its route by plan: in every process a
// comment (with the share of CommentShare), then completing it with a
// comment (or sending it back once with one, cancelling it, closing it
// with a resolution, or leaving it open).
func (j *job) walk(ctx context.Context, t *taskRecord, p plan) {
	returned := false
	for t.Abandoned == "" && ctx.Err() == nil {
		pos := t.Position
		proc := t.Processes[pos]
		actor := j.member(proc.GroupID)
		if j.rng.Float64() < j.wl.opt.CommentShare && !j.comment(ctx, t, actor, "note in "+proc.Name) {
			return
		}
		if pos == p.stopAt {
			switch p.outcome {
			case "open":
				return
			case "cancel":
				j.cancel(ctx, t)
				return
			case "resolution":
				j.advance(ctx, t, actor, "customer_refused")
				return
			}
		}
		if pos == p.returnAt && !returned {
			returned = true
			if !j.sendBack(ctx, t, actor) {
				return
			}
			continue
		}
		if !j.advance(ctx, t, actor, "") || t.State != stateOpen {
			return
		}
	}
}

func (j *job) abandon(t *taskRecord, format string, args ...any) bool {
	t.Abandoned = fmt.Sprintf(format, args...)
	j.stats().refuse("task %s (job %d): %s", t.ID, j.id, t.Abandoned)
	return false
}

// comment adds a comment. After an attempt whose fate is unknown the
// client reloads the comments (once the stack is whole again) and writes
// it again only when it is not there.
func (j *job) comment(ctx context.Context, t *taskRecord, actor *user, what string) bool {
	c := j.wl.c
	text := j.text(what)
	for {
		a := c.once(ctx, actor, http.MethodPost, "/api/v1/tasks/"+t.ID+"/comments", map[string]any{"text": text})
		switch {
		case a.ok():
		case a.err != nil:
			return j.abandon(t, "comment: %v", a.err)
		case !a.retried:
			return j.abandon(t, "comment: %s", describeAnswer(a))
		default:
			j.stats().retried.Add(1)
			c.settle(ctx)
			if !j.hasComment(ctx, actor, t, text) {
				continue
			}
			j.stats().lookedUp.Add(1)
		}
		j.stats().commands.Add(1)
		t.Steps = append(t.Steps, step{Command: "comment", Event: eventCommented, Text: text, Actor: actor.id, Comment: true, Seen: !a.ok()})
		return true
	}
}

func (j *job) hasComment(ctx context.Context, u *user, t *taskRecord, text string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct {
			Comments []struct {
				Text string `json:"text"`
			} `json:"comments"`
		}
		if err := j.wl.c.call(ctx, u, http.MethodGet, "/api/v1/tasks/"+t.ID+"/comments?pageSize=500", nil).decode(&list); err == nil {
			for _, c := range list.Comments {
				if c.Text == text {
					return true
				}
			}
		}
		if time.Now().After(deadline) || !sleep(ctx, 500*time.Millisecond) {
			return false
		}
	}
}

// command sends a command that names the process the client saw; a repeat
// after an attempt whose fate is unknown is refused when that attempt
// went through (409: the task moved on; 400: it is closed), which tells
// the client it is done.
func (j *job) command(ctx context.Context, t *taskRecord, actor *user, verb string, body map[string]any, s step) bool {
	a := j.wl.c.call(ctx, actor, http.MethodPost, "/api/v1/tasks/"+t.ID+":"+verb, body)
	switch {
	case a.err != nil:
		return j.abandon(t, "%s: %v", verb, a.err)
	case a.ok():
		if a.retried {
			j.stats().retried.Add(1)
		}
	case a.retried && (a.status == http.StatusConflict && a.says("moved on") ||
		a.status == http.StatusBadRequest && (a.says(" is closed") || a.says(" is cancelled"))):
		j.stats().retried.Add(1)
		j.stats().confirmed.Add(1)
	default:
		return j.abandon(t, "%s: %s", verb, describeAnswer(a))
	}
	j.stats().commands.Add(1)
	s.Actor = actor.id
	t.Steps = append(t.Steps, s)
	return true
}

func (j *job) advance(ctx context.Context, t *taskRecord, actor *user, resolution string) bool {
	proc := t.Processes[t.Position]
	text := j.text("done: " + proc.Name)
	body := map[string]any{"processId": proc.ID, "comment": text}
	if resolution != "" {
		body["resolution"] = resolution
	}
	s := step{Command: "advance", Event: eventAdvanced, Text: text, Comment: true}
	last := t.Position == len(t.Processes)-1
	if resolution != "" || last {
		s.Event = eventClosed
	}
	if !j.command(ctx, t, actor, "advance", body, s) {
		return false
	}
	switch {
	case resolution != "":
		t.State, t.CloseReason = stateCancelled, "RESOLUTION:"+resolution
	case last:
		t.State, t.CloseReason = stateClosed, "ROUTE_COMPLETED"
	default:
		t.Position++
	}
	return true
}

func (j *job) sendBack(ctx context.Context, t *taskRecord, actor *user) bool {
	proc := t.Processes[t.Position]
	text := j.text("back from " + proc.Name)
	body := map[string]any{"processId": proc.ID, "comment": text}
	if !j.command(ctx, t, actor, "return", body, step{Command: "return", Event: eventReturned, Text: text, Comment: true}) {
		return false
	}
	t.Position--
	return true
}

func (j *job) cancel(ctx context.Context, t *taskRecord) bool {
	reason := j.text("cancelled by the drill")
	if !j.command(ctx, t, j.wl.w.sup, "cancel", map[string]any{"reason": reason}, step{Command: "cancel", Event: eventCancelled, Text: reason}) {
		return false
	}
	t.State, t.CloseReason = stateCancelled, reason
	return true
}

var _ = strings.Contains
