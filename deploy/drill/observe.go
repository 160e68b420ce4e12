package drill

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

// eventView is a timeline event as the REST API shows it.
type eventView struct {
	Kind          string `json:"kind"`
	Text          string `json:"text"`
	ActorID       string `json:"actorId"`
	ProcessID     string `json:"processId"`
	FromProcessID string `json:"fromProcessId"`
}

// taskSeen is a task as the read model has it, with its timeline and
// comments.
type taskSeen struct {
	View     taskView
	Events   []eventView
	Comments []string
}

// observed is everything the verdict compares with the ledger.
type observed struct {
	Tasks     map[string]*taskSeen // by task id: the ledger's and any other
	Contracts map[string]contractView
	// Running and Failed are the workflow ids Temporal lists as running,
	// and as ended otherwise than completed.
	Running map[string]bool
	Failed  map[string]string
	Members map[string][]string // group id → user ids
	Stats   deliveryStats
	Sent    []botapifake.Message
	// SMS is every text the fake SMS.ru took.
	SMS []smsrufake.Message
}

type deliveryStats struct {
	PendingEvents      int64 `json:"pendingEvents,string"`
	PendingMessages    int64 `json:"pendingMessages,string"`
	SentMessages       int64 `json:"sentMessages,string"`
	SkippedMessages    int64 `json:"skippedMessages,string"`
	PossibleDuplicates int64 `json:"possibleDuplicates,string"`
	Retries            int64 `json:"retries,string"`
	FailedMessages     int64 `json:"failedMessages,string"`
	// Customers' SMS.
	SMSPending            int64 `json:"smsPending,string"`
	SMSSent               int64 `json:"smsSent,string"`
	SMSFailed             int64 `json:"smsFailed,string"`
	SMSPossibleDuplicates int64 `json:"smsPossibleDuplicates,string"`
}

// stats reads the notifier's delivery figures.
func (w *world) stats(ctx context.Context) (deliveryStats, error) {
	var st deliveryStats
	err := w.c.call(ctx, w.admin, http.MethodGet, "/api/v1/notifications:stats", nil).decode(&st)
	return st, err
}

// observe reads the read model (every task, its timeline and comments,
// every contract), Temporal's visibility, the groups, the notifier's
// figures and what the fake Bot API received.
func observe(ctx context.Context, w *world, s *Stack) (*observed, error) {
	o := &observed{Tasks: map[string]*taskSeen{}, Contracts: map[string]contractView{}}
	var ids []string
	token := ""
	for {
		var page struct {
			Tasks         []taskView `json:"tasks"`
			NextPageToken string     `json:"nextPageToken"`
		}
		path := "/api/v1/tasks?pageSize=200"
		if token != "" {
			path += "&pageToken=" + token
		}
		if err := w.c.call(ctx, w.admin, http.MethodGet, path, nil).decode(&page); err != nil {
			return nil, fmt.Errorf("listing tasks: %w", err)
		}
		for _, t := range page.Tasks {
			ids = append(ids, t.ID)
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan string)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				t, err := w.readTask(ctx, id)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				o.Tasks[id] = t
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	token = ""
	for {
		var page struct {
			Contracts     []contractView `json:"contracts"`
			NextPageToken string         `json:"nextPageToken"`
		}
		path := "/api/v1/contracts?pageSize=100"
		if token != "" {
			path += "&pageToken=" + token
		}
		if err := w.c.call(ctx, w.admin, http.MethodGet, path, nil).decode(&page); err != nil {
			return nil, fmt.Errorf("listing contracts: %w", err)
		}
		for _, k := range page.Contracts {
			o.Contracts[k.ID] = k
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	var err error
	if o.Running, o.Failed, err = workflows(ctx, s); err != nil {
		return nil, err
	}
	if o.Members, err = w.groupMembers(ctx); err != nil {
		return nil, err
	}
	if o.Stats, err = w.stats(ctx); err != nil {
		return nil, err
	}
	o.Sent = w.tg.Sent()
	if w.sms != nil {
		o.SMS = w.sms.Sent()
	}
	return o, nil
}

func (w *world) readTask(ctx context.Context, id string) (*taskSeen, error) {
	t := &taskSeen{}
	if err := w.c.call(ctx, w.admin, http.MethodGet, "/api/v1/tasks/"+id, nil).decode(&t.View); err != nil {
		return nil, fmt.Errorf("reading task %s: %w", id, err)
	}
	token := ""
	for {
		var page struct {
			TaskEvents    []eventView `json:"taskEvents"`
			NextPageToken string      `json:"nextPageToken"`
		}
		path := "/api/v1/tasks/" + id + "/events?pageSize=500"
		if token != "" {
			path += "&pageToken=" + token
		}
		if err := w.c.call(ctx, w.admin, http.MethodGet, path, nil).decode(&page); err != nil {
			return nil, fmt.Errorf("reading task %s's timeline: %w", id, err)
		}
		t.Events = append(t.Events, page.TaskEvents...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	token = ""
	for {
		var page struct {
			Comments []struct {
				Text string `json:"text"`
			} `json:"comments"`
			NextPageToken string `json:"nextPageToken"`
		}
		path := "/api/v1/tasks/" + id + "/comments?pageSize=500"
		if token != "" {
			path += "&pageToken=" + token
		}
		if err := w.c.call(ctx, w.admin, http.MethodGet, path, nil).decode(&page); err != nil {
			return nil, fmt.Errorf("reading task %s's comments: %w", id, err)
		}
		for _, c := range page.Comments {
			t.Comments = append(t.Comments, c.Text)
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	return t, nil
}

// workflows lists, through Temporal's visibility, the workflows that run
// and those that ended otherwise than completed (with how).
func workflows(ctx context.Context, s *Stack) (map[string]bool, map[string]string, error) {
	c, err := s.DialTemporal(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reaching Temporal: %w", err)
	}
	defer c.Close()
	list := func(query string, each func(id, status string)) error {
		var token []byte
		for {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
			if err != nil {
				return fmt.Errorf("listing workflows (%s): %w", query, err)
			}
			for _, e := range resp.GetExecutions() {
				each(e.GetExecution().GetWorkflowId(), e.GetStatus().String())
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				return nil
			}
		}
	}
	running, failed := map[string]bool{}, map[string]string{}
	if err := list("ExecutionStatus='Running'", func(id, _ string) { running[id] = true }); err != nil {
		return nil, nil, err
	}
	err = list("ExecutionStatus!='Running' AND ExecutionStatus!='Completed' AND ExecutionStatus!='ContinuedAsNew'", func(id, st string) { failed[id] = st })
	return running, failed, err
}

// A notification names its task "T-000123 (#123)" and quotes the drill's
// text, whose token says which event it is.
var (
	taskRef  = regexp.MustCompile(`\(#(\d+)\)`)
	tokenRef = regexp.MustCompile(`\[d:\d+\.\d+\]`)
)

// noteKey is one notification: a task's event (by the token of its text;
// "" for the task's creation, the one event without a drill text) in a
// chat.
type noteKey struct {
	Chat  int64
	Task  string
	Token string
}

func (k noteKey) String() string {
	ev := k.Token
	if ev == "" {
		ev = "created"
	}
	return fmt.Sprintf("task %s %s → chat %d", k.Task, ev, k.Chat)
}

// received counts the fake's messages by notification; messages that
// name no task (the bot's answers to /start) are left out.
func received(sent []botapifake.Message) map[noteKey]int {
	out := map[noteKey]int{}
	for _, m := range sent {
		ref := taskRef.FindStringSubmatch(m.Text)
		if ref == nil {
			continue
		}
		out[noteKey{Chat: m.ChatID, Task: ref[1], Token: tokenRef.FindString(m.Text)}]++
	}
	return out
}

// expectedNotes are the notifications the product's rules call for, from
// the timelines the read model holds: each event to the members of the
// groups it concerns (the process left and the one entered; the current
// one for comments and assignments; every group the task has been in on
// close; the supervisors too on an SLA breach), but not to the person who
// acted, and only to people with a linked chat.
func expectedNotes(tasks map[string]*taskSeen, members map[string][]string, chats map[string]int64, supervisors []string) map[noteKey]int {
	out := map[noteKey]int{}
	for id, t := range tasks {
		group := map[string]string{}
		for _, p := range t.View.Processes {
			group[p.ID] = p.GroupID
		}
		var visited []string
		visit := func(g string) {
			for _, v := range visited {
				if v == g {
					return
				}
			}
			visited = append(visited, g)
		}
		for _, e := range t.Events {
			var groups []string
			extra := []string(nil)
			switch e.Kind {
			case eventCreated:
				visit(group[e.ProcessID])
				groups = []string{group[e.ProcessID]}
			case eventAdvanced, eventReturned:
				visit(group[e.ProcessID])
				groups = []string{group[e.FromProcessID], group[e.ProcessID]}
			case eventCommented, eventAssigned:
				groups = []string{group[e.ProcessID]}
			case eventSLA:
				groups, extra = []string{group[e.ProcessID]}, supervisors
			case eventClosed, eventCancelled:
				groups = visited
			}
			who := map[string]bool{}
			for _, g := range groups {
				for _, u := range members[g] {
					who[u] = true
				}
			}
			for _, u := range extra {
				who[u] = true
			}
			delete(who, e.ActorID)
			for u := range who {
				if chat, ok := chats[u]; ok {
					out[noteKey{Chat: chat, Task: id, Token: tokenRef.FindString(e.Text)}]++
				}
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, errA := strconv.ParseInt(out[i], 10, 64)
		b, errB := strconv.ParseInt(out[j], 10, 64)
		if errA == nil && errB == nil {
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}
