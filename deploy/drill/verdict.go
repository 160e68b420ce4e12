package drill

import (
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"
)

// check is one property the verdict asserts, with what it looked at and
// every way it found the property broken.
type check struct {
	Name     string
	Checked  int
	Problems []string
}

func (c *check) fail(format string, args ...any) {
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// Verdict is what a drill found.
type Verdict struct {
	Drill    string
	Options  Options
	Took     time.Duration
	WorkTook time.Duration
	// Figures of the work.
	Tasks, Connection, Service     int
	Open, Closed, Cancelled        int
	Commands, Requests             int64
	Retried, Confirmed, LookedUp   int64
	TransportErrs, ServerErrs      int64
	Relogins, GaveUp               int64
	Faults                         []fault
	Kills                          map[string]int
	Components                     []string // the stack's, in order
	EventsChecked, CommentsChecked int
	NotesExpected, NotesReceived   int
	NotesExtra                     int
	TextsExpected, TextsReceived   int
	TextsExtra                     int
	Stats                          deliveryStats
	RunningWorkflows               int
	Checks                         []*check
	// Why are the answers that said nothing of what happened, by kind.
	Why map[string]int
	// DataDir is kept when the drill failed.
	DataDir string
}

// unsettled is what the stack has yet to finish after the work —
// workflows, staff notifications, customers' texts: each such check's
// first problem and how many it has; none once all is there.
func (v *Verdict) unsettled() []string {
	var left []string
	for _, c := range v.Checks {
		if (c.Name == flowsCheck || c.Name == notesCheck || c.Name == smsCheck) && len(c.Problems) > 0 {
			left = append(left, fmt.Sprintf("%s (%d in all)", c.Problems[0], len(c.Problems)))
		}
	}
	return left
}

// Pass tells whether every check held.
func (v *Verdict) Pass() bool {
	for _, c := range v.Checks {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return true
}

// Names of the checks of what the stack finishes after the work.
const (
	notesCheck = "every notification reached its chat once (beyond the possible duplicates the notifier counted)"
	smsCheck   = "every customer was texted at each milestone, and again only as often as the notifier counted possible duplicates"
)

// flowsCheck names the check of the workflows Temporal runs.
const flowsCheck = "Temporal runs exactly the workflows of the open tasks and the follow-ups of closed connections (none stuck, none failed)"

// judge compares what the clients believe they did with what the stack
// holds.
func judge(l *ledger, o *observed, w *world, stats *counters) *Verdict {
	v := &Verdict{}
	known := map[string]*taskRecord{}
	for _, t := range l.tasks {
		known[t.ID] = t
		v.Tasks++
		if t.Kind == kindConnection {
			v.Connection++
		} else {
			v.Service++
		}
		switch t.State {
		case stateOpen:
			v.Open++
		case stateClosed:
			v.Closed++
		case stateCancelled:
			v.Cancelled++
		}
	}

	clients := &check{Name: "every command answered as the clients expected", Checked: int(stats.commands.Load())}
	stats.mu.Lock()
	clients.Problems = append(clients.Problems, stats.unexpected...)
	stats.mu.Unlock()

	states := &check{Name: "every task stands where its commands put it"}
	timelines := &check{Name: "every timeline holds each command's event once, in order (no event missing or doubled)"}
	comments := &check{Name: "every comment is there once"}
	strays := &check{Name: "no task the clients do not know of"}
	for _, id := range sortedKeys(o.Tasks) {
		seen := o.Tasks[id]
		t, ok := known[id]
		if !ok {
			strays.fail("task %s (%s, %q) is %s at %q; no client opened it", id, seen.View.Kind, seen.View.Title, seen.View.State, seen.View.CurrentProcess.Name)
		}
		_ = t
	}
	for _, t := range l.tasks {
		seen, ok := o.Tasks[t.ID]
		states.Checked++
		if !ok {
			states.fail("task %s is not in the read model", t.ID)
			continue
		}
		if t.Abandoned != "" {
			states.fail("task %s: the client stopped after %s; it is %s at %q", t.ID, t.Abandoned, seen.View.State, seen.View.CurrentProcess.Name)
		} else {
			compareState(states, t, seen)
		}
		compareTimeline(timelines, t, seen)
		compareComments(comments, t, seen)
	}

	contracts := &check{Name: "every contract has its connection task and the status that task implies"}
	for _, id := range sortedKeys(o.Contracts) {
		k := o.Contracts[id]
		contracts.Checked++
		t, ok := l.contracts[id]
		if !ok {
			contracts.fail("contract %s is %s with connection task %q; no client kept it", id, k.Status, k.ConnectionTaskID)
			continue
		}
		if k.ConnectionTaskID != t.ID {
			contracts.fail("contract %s names connection task %q, its task is %s", id, k.ConnectionTaskID, t.ID)
		}
		if t.Abandoned == "" && k.Status != contractStatus(t) {
			contracts.fail("contract %s is %s; its connection task %s is %s, so it should be %s", id, k.Status, t.ID, t.State, contractStatus(t))
		}
	}
	for id := range l.contracts {
		if _, ok := o.Contracts[id]; !ok {
			contracts.fail("contract %s is gone", id)
		}
	}

	flows := &check{Name: flowsCheck}
	want := map[string]bool{}
	for _, t := range l.tasks {
		switch {
		case t.Abandoned != "":
		case t.State == stateOpen:
			want["task-"+t.ID] = true
			if t.Kind == kindConnection {
				want["connection-"+t.Contract] = true
			}
		case t.State == stateClosed && t.Kind == kindConnection:
			// route No. 1's welcome call waits a week after the close
			want["followup-"+t.ID+"-1"] = true
		}
	}
	flows.Checked = len(want)
	v.RunningWorkflows = len(o.Running)
	for _, id := range sortedKeys(o.Running) {
		if !want[id] {
			flows.fail("workflow %s runs; its task is not open by the ledger", id)
		}
	}
	for _, id := range sortedKeys(want) {
		if !o.Running[id] {
			flows.fail("workflow %s does not run; its task is open", id)
		}
	}
	for _, id := range sortedKeys(o.Failed) {
		flows.fail("workflow %s ended %s", id, o.Failed[id])
	}
	for _, t := range l.tasks {
		if seen := o.Tasks[t.ID]; seen != nil && seen.View.State == stateOpen && !o.Running["task-"+t.ID] && !want["task-"+t.ID] {
			flows.fail("task %s is open in the read model but its workflow does not run", t.ID)
		}
	}
	for _, id := range sortedKeys(o.Tasks) {
		if _, ok := known[id]; !ok && o.Tasks[id].View.State == stateOpen && !o.Running["task-"+id] {
			flows.fail("task %s is open in the read model without a workflow: it can never move", id)
		}
	}

	notes := &check{Name: notesCheck}
	judgeNotes(v, notes, o, w)

	texts := &check{Name: smsCheck}
	if w.sms != nil {
		judgeSMS(v, texts, l, o)
	}

	v.Checks = []*check{clients, states, timelines, comments, strays, contracts, flows, notes, texts}
	v.Commands = stats.commands.Load()
	v.Requests = stats.requests.Load()
	v.Retried, v.Confirmed, v.LookedUp = stats.retried.Load(), stats.confirmed.Load(), stats.lookedUp.Load()
	v.TransportErrs, v.ServerErrs = stats.transportErrs.Load(), stats.serverErrs.Load()
	v.Relogins, v.GaveUp = stats.relogins.Load(), stats.gaveUp.Load()
	stats.mu.Lock()
	v.Why = maps.Clone(stats.why)
	stats.mu.Unlock()
	for _, c := range []*check{timelines} {
		v.EventsChecked = c.Checked
	}
	v.CommentsChecked = comments.Checked
	return v
}

func compareState(c *check, t *taskRecord, seen *taskSeen) {
	got := seen.View
	if got.State != t.State {
		c.fail("task %s is %s, the client left it %s", t.ID, got.State, t.State)
		return
	}
	if t.State == stateOpen {
		if want := t.Processes[t.Position]; got.CurrentProcess.ID != want.ID {
			c.fail("task %s is in %q, the client left it in %q", t.ID, got.CurrentProcess.Name, want.Name)
		}
		return
	}
	if got.CloseReason != t.CloseReason {
		c.fail("task %s closed for %q, the client closed it for %q", t.ID, got.CloseReason, t.CloseReason)
	}
}

func eventKey(kind, text string) string {
	if kind == eventCreated {
		return kind
	}
	return kind + " " + text
}

func compareTimeline(c *check, t *taskRecord, seen *taskSeen) {
	want := t.expectedEvents()
	c.Checked += len(want)
	count := map[string]int{}
	for _, e := range seen.Events {
		count[eventKey(e.Kind, e.Text)]++
	}
	expected := map[string]bool{}
	bad := false
	for _, s := range want {
		k := eventKey(s.Event, s.Text)
		expected[k] = true
		switch n := count[k]; {
		case n == 0 && s.Seen:
			c.fail("task %s: %s is missing from the timeline; its client saw it there after an attempt whose answer was lost (a step Temporal dropped after writing it)", t.ID, k)
			bad = true
		case n == 0:
			c.fail("task %s: %s is missing from the timeline", t.ID, k)
			bad = true
		case n > 1:
			c.fail("task %s: %s is in the timeline %d times", t.ID, k, n)
			bad = true
		}
	}
	for _, e := range seen.Events {
		if k := eventKey(e.Kind, e.Text); !expected[k] {
			if t.Abandoned != "" {
				continue // the client does not know how its last command ended
			}
			c.fail("task %s: the timeline has %s, which no client did", t.ID, k)
			bad = true
		}
	}
	if bad || len(seen.Events) != len(want) {
		return
	}
	// The order of the steps the client knows were done; a step it only
	// saw may have landed anywhere after it was sent.
	var got, did []string
	seenOnly := map[string]bool{}
	for _, s := range want {
		if s.Seen {
			seenOnly[eventKey(s.Event, s.Text)] = true
			continue
		}
		did = append(did, eventKey(s.Event, s.Text))
	}
	for _, e := range seen.Events {
		if k := eventKey(e.Kind, e.Text); !seenOnly[k] {
			got = append(got, k)
		}
	}
	for i := range did {
		if got[i] != did[i] {
			c.fail("task %s: step %d is %s, the client did %s", t.ID, i+1, got[i], did[i])
			return
		}
	}
}

func compareComments(c *check, t *taskRecord, seen *taskSeen) {
	count := map[string]int{}
	for _, text := range seen.Comments {
		count[text]++
	}
	want := map[string]bool{}
	for _, s := range t.Steps {
		if !s.Comment {
			continue
		}
		c.Checked++
		want[s.Text] = true
		switch n := count[s.Text]; {
		case n == 0:
			c.fail("task %s: comment %q is missing", t.ID, s.Text)
		case n > 1:
			c.fail("task %s: comment %q is there %d times", t.ID, s.Text, n)
		}
	}
	for text := range count {
		if !want[text] && t.Abandoned == "" {
			c.fail("task %s: comment %q, which no client wrote", t.ID, text)
		}
	}
}

// judgeNotes compares what the fake Bot API received with what the
// timelines call for.
func judgeNotes(v *Verdict, c *check, o *observed, w *world) {
	chats := map[string]int64{}
	for _, u := range w.users {
		chats[u.id] = u.chat
	}
	var supervisors []string
	for _, u := range w.users {
		if u.role == "supervisor" {
			supervisors = append(supervisors, u.id)
		}
	}
	want := expectedNotes(o.Tasks, o.Members, chats, supervisors)
	got := received(o.Sent)
	v.Stats = o.Stats
	var missing, extra, stray []string
	extraCount := 0
	for k, n := range want {
		v.NotesExpected += n
		switch g := got[k]; {
		case g < n:
			missing = append(missing, fmt.Sprintf("%s: %d of %d", k, g, n))
		case g > n:
			extra = append(extra, fmt.Sprintf("%s: %d times", k, g))
			extraCount += g - n
		}
	}
	for k, n := range got {
		v.NotesReceived += n
		if want[k] == 0 {
			stray = append(stray, fmt.Sprintf("%s (%d)", k, n))
		}
	}
	v.NotesExtra = extraCount
	c.Checked = v.NotesExpected
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(stray)
	for _, m := range missing {
		c.fail("missing: %s", m)
	}
	for _, s := range stray {
		c.fail("not called for: %s", s)
	}
	if int64(extraCount) > o.Stats.PossibleDuplicates {
		c.fail("%d messages arrived more than once, the notifier counted %d possible duplicates: %s", extraCount, o.Stats.PossibleDuplicates, strings.Join(extra, "; "))
	}
	if o.Stats.PendingEvents+o.Stats.PendingMessages > 0 {
		c.fail("the notifier still holds %d events and %d messages", o.Stats.PendingEvents, o.Stats.PendingMessages)
	}
	if o.Stats.FailedMessages > 0 {
		c.fail("Telegram refused %d messages for good", o.Stats.FailedMessages)
	}
}

// Report prints the verdict: the figures, the faults, every check and a
// last line PASS or FAIL.
func (v *Verdict) Report(out io.Writer) {
	fmt.Fprintf(out, "\n== drill %s: verdict\n", v.Drill)
	fmt.Fprintf(out, "work: %d tasks (%d connection, %d service) by %d clients in %s; the clients left %d open, %d closed, %d cancelled\n",
		v.Tasks, v.Connection, v.Service, v.Options.Clients, v.WorkTook.Round(time.Second), v.Open, v.Closed, v.Cancelled)
	fmt.Fprintf(out, "commands: %d carried out, %d HTTP requests; %d connection errors, %d 5xx answers, %d sign-ins again\n",
		v.Commands, v.Requests, v.TransportErrs, v.ServerErrs, v.Relogins)
	fmt.Fprintf(out, "retries of commands whose fate was unknown: %d (%d found done by the repeat's 409/closed answer, %d found done by looking); %d gave up\n",
		v.Retried, v.Confirmed, v.LookedUp, v.GaveUp)
	if len(v.Why) > 0 {
		kinds := make([]string, 0, len(v.Why))
		for k := range v.Why {
			kinds = append(kinds, k)
		}
		sort.Slice(kinds, func(i, j int) bool { return v.Why[kinds[i]] > v.Why[kinds[j]] })
		fmt.Fprintln(out, "answers that said nothing of what happened, by kind:")
		for i, k := range kinds {
			if i == 8 {
				fmt.Fprintf(out, "    … and %d kinds more\n", len(kinds)-8)
				break
			}
			fmt.Fprintf(out, "    %5d  %s\n", v.Why[k], k)
		}
	}
	if len(v.Kills) > 0 {
		var parts []string
		total := 0
		for _, name := range v.Components {
			if n := v.Kills[name]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", name, n))
				total += n
			}
		}
		fmt.Fprintf(out, "kills (SIGKILL): %d — %s\n", total, strings.Join(parts, ", "))
	}
	fmt.Fprintf(out, "faults: %d\n", len(v.Faults))
	fmt.Fprintf(out, "timeline events checked: %d; comments checked: %d; workflows running at the end: %d\n", v.EventsChecked, v.CommentsChecked, v.RunningWorkflows)
	fmt.Fprintf(out, "notifications: %d called for, %d received by the fake Bot API, %d arrived twice; notifier: %d sent, %d skipped, %d retries, %d possible duplicates\n",
		v.NotesExpected, v.NotesReceived, v.NotesExtra, v.Stats.SentMessages, v.Stats.SkippedMessages, v.Stats.Retries, v.Stats.PossibleDuplicates)
	fmt.Fprintf(out, "customers' texts: at least %d called for, %d received by the fake SMS.ru, %d arrived twice; notifier: %d sent, %d failed, %d possible duplicates\n",
		v.TextsExpected, v.TextsReceived, v.TextsExtra, v.Stats.SMSSent, v.Stats.SMSFailed, v.Stats.SMSPossibleDuplicates)
	for _, c := range v.Checks {
		mark := "ok  "
		if len(c.Problems) > 0 {
			mark = "FAIL"
		}
		fmt.Fprintf(out, "  %s %s (%d checked", mark, c.Name, c.Checked)
		if len(c.Problems) > 0 {
			fmt.Fprintf(out, ", %d problems", len(c.Problems))
		}
		fmt.Fprintln(out, ")")
		for i, p := range c.Problems {
			if i == 20 {
				fmt.Fprintf(out, "         … and %d more\n", len(c.Problems)-20)
				break
			}
			fmt.Fprintf(out, "         %s\n", p)
		}
	}
	if v.DataDir != "" {
		fmt.Fprintf(out, "the stack's data and logs are kept in %s\n", v.DataDir)
	}
	fmt.Fprintln(out, v.Summary())
}

// Summary is the verdict's last line: PASS or FAIL with the counts.
func (v *Verdict) Summary() string {
	verdict, problems := "PASS", 0
	for _, c := range v.Checks {
		problems += len(c.Problems)
	}
	if problems > 0 {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s: drill %s — %d tasks, %d commands, %d events, %d comments, %d notifications checked, %d faults, %d problems, in %s",
		verdict, v.Drill, v.Tasks, v.Commands, v.EventsChecked, v.CommentsChecked, v.NotesExpected, len(v.Faults), problems, v.Took.Round(time.Second))
}

// jobPhone is the number a job's customer is texted at, as SMS.ru takes
// it (digits only).
func jobPhone(job int) string { return fmt.Sprintf("7999%07d", job) }

// judgeSMS compares the texts the fake SMS.ru took with the milestones the
// ledger's tasks reached: each task's opening (a contract opened, a request
// received) and its close (connected, request resolved) is a text to its
// job's customer. A customer may get more than the ledger calls for (a
// contract opened again after a lost answer is a contract all the same),
// never fewer; a text that arrived twice must be within the possible
// duplicates the notifier counted.
func judgeSMS(v *Verdict, c *check, l *ledger, o *observed) {
	want := map[string]int{}
	unsure := map[string]bool{}
	for _, t := range l.tasks {
		phone := jobPhone(t.Job)
		want[phone]++
		switch {
		case t.Abandoned != "":
			unsure[phone] = true // where it stands is not known
		case t.State == stateClosed:
			want[phone]++
		}
	}
	got := map[string]map[string]int{}
	for _, m := range o.SMS {
		if got[m.To] == nil {
			got[m.To] = map[string]int{}
		}
		got[m.To][m.Text]++
	}
	v.TextsReceived = len(o.SMS)
	var extra []string
	for _, phone := range sortedKeys(got) {
		for _, text := range sortedKeys(got[phone]) {
			if n := got[phone][text]; n > 1 {
				v.TextsExtra += n - 1
				extra = append(extra, fmt.Sprintf("%q to %s ×%d", text, phone, n))
			}
		}
	}
	for _, phone := range sortedKeys(want) {
		c.Checked++
		v.TextsExpected += want[phone]
		if n := len(got[phone]); n < want[phone] && !unsure[phone] {
			c.fail("+%s was texted %d times, its tasks called for %d", phone, n, want[phone])
		}
	}
	if int64(v.TextsExtra) > o.Stats.SMSPossibleDuplicates {
		c.fail("%d texts arrived more than once, the notifier counted %d possible duplicates: %s", v.TextsExtra, o.Stats.SMSPossibleDuplicates, strings.Join(extra, "; "))
	}
}
