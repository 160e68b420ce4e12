package drill

import (
	"strings"
	"testing"

	"github.com/telecomcrm/crm/services/platform/servicetest/botapifake"
	"github.com/telecomcrm/crm/services/platform/servicetest/smsrufake"
)

// A task on a two-process route: Support (5) then Installers (3).
func twoStepTask() *taskSeen {
	return &taskSeen{
		View: taskView{ID: "7", State: stateClosed, CloseReason: "ROUTE_COMPLETED", Processes: []process{{ID: "61", GroupID: "5"}, {ID: "62", GroupID: "3"}}},
		Events: []eventView{
			{Kind: eventCreated, ActorID: "1", ProcessID: "61", Text: "Drill service visit 3"},
			{Kind: eventCommented, ActorID: "10", ProcessID: "61", Text: "[d:3.1] note"},
			{Kind: eventAdvanced, ActorID: "10", ProcessID: "62", FromProcessID: "61", Text: "[d:3.2] done"},
			{Kind: eventClosed, ActorID: "20", FromProcessID: "62", Text: "[d:3.3] done"},
		},
		Comments: []string{"[d:3.1] note", "[d:3.2] done", "[d:3.3] done"},
	}
}

func twoStepRecord() *taskRecord {
	return &taskRecord{ID: "7", Kind: kindService, State: stateClosed, CloseReason: "ROUTE_COMPLETED",
		Processes: []process{{ID: "61", GroupID: "5"}, {ID: "62", GroupID: "3"}},
		Steps: []step{
			{Command: "comment", Event: eventCommented, Text: "[d:3.1] note", Comment: true},
			{Command: "advance", Event: eventAdvanced, Text: "[d:3.2] done", Comment: true},
			{Command: "advance", Event: eventClosed, Text: "[d:3.3] done", Comment: true},
		}}
}

func TestExpectedNotesFollowTheNotificationRules(t *testing.T) {
	members := map[string][]string{"5": {"10", "11"}, "3": {"20", "21"}, "1": {"1"}}
	chats := map[string]int64{"1": 101, "10": 110, "11": 111, "20": 120, "21": 121}
	got := expectedNotes(map[string]*taskSeen{"7": twoStepTask()}, members, chats, nil)
	want := map[noteKey]int{
		// created in Support, by someone outside it: both members
		{110, "7", ""}: 1, {111, "7", ""}: 1,
		// a comment in Support by 10: the other member
		{111, "7", "[d:3.1]"}: 1,
		// Support → Installers by 10: Support's other member and Installers
		{111, "7", "[d:3.2]"}: 1, {120, "7", "[d:3.2]"}: 1, {121, "7", "[d:3.2]"}: 1,
		// closed by 20: every group the task was in, but not 20
		{110, "7", "[d:3.3]"}: 1, {111, "7", "[d:3.3]"}: 1, {121, "7", "[d:3.3]"}: 1,
	}
	if len(got) != len(want) {
		t.Fatalf("expected %d notifications, want %d: %v", len(got), len(want), got)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d, want %d", k, got[k], n)
		}
	}
}

func TestReceivedReadsTaskAndTokenAndSkipsBotAnswers(t *testing.T) {
	got := received([]botapifake.Message{
		{ChatID: 110, Text: "<b>T-000007 (#7)</b> · Drill service visit 3\n<b>New task</b>"},
		{ChatID: 111, Text: "<b>T-000007 (#7)</b>\n<b>New comment</b>\nComment: <i>[d:3.1] note</i>"},
		{ChatID: 111, Text: "<b>T-000007 (#7)</b>\n<b>New comment</b>\nComment: <i>[d:3.1] note</i>"},
		{ChatID: 110, Text: "Done: you are Drill drill-g5-a."},
	})
	if len(got) != 2 || got[noteKey{110, "7", ""}] != 1 || got[noteKey{111, "7", "[d:3.1]"}] != 2 {
		t.Fatalf("received %v", got)
	}
}

func TestJudgeAcceptsATaskAsItsClientLeftIt(t *testing.T) {
	l := newLedger()
	l.addTask(twoStepRecord())
	o := &observed{Tasks: map[string]*taskSeen{"7": twoStepTask()}, Contracts: map[string]contractView{}, Running: map[string]bool{}, Failed: map[string]string{}}
	v := judge(l, o, &world{}, &counters{})
	for _, c := range v.Checks {
		if len(c.Problems) > 0 {
			t.Errorf("%s: %v", c.Name, c.Problems)
		}
	}
}

func TestJudgeFindsMissingDoubledAndStrayWork(t *testing.T) {
	seen := twoStepTask()
	// the comment is doubled, the advance's event is gone, the task still
	// runs, and a task nobody opened sits open without a workflow
	seen.Events = append(seen.Events[:2], seen.Events[1], seen.Events[3])
	seen.Comments = append(seen.Comments, "[d:3.1] note")
	l := newLedger()
	l.addTask(twoStepRecord())
	o := &observed{
		Tasks:     map[string]*taskSeen{"7": seen, "8": {View: taskView{ID: "8", State: stateOpen, Title: "orphan"}}},
		Contracts: map[string]contractView{"4": {ID: "4", Status: contractPending}},
		Running:   map[string]bool{"task-7": true},
		Failed:    map[string]string{"connection-4": "WORKFLOW_EXECUTION_STATUS_FAILED"},
	}
	v := judge(l, o, &world{}, &counters{})
	if v.Pass() {
		t.Fatal("the verdict passed")
	}
	found := map[string]string{}
	for _, c := range v.Checks {
		found[c.Name] = strings.Join(c.Problems, "\n")
	}
	for name, want := range map[string][]string{
		"every timeline holds each command's event once, in order (no event missing or doubled)": {"[d:3.1] note is in the timeline 2 times", "[d:3.2] done is missing"},
		"every comment is there once":                                             {`comment "[d:3.1] note" is there 2 times`},
		"no task the clients do not know of":                                      {"task 8"},
		"every contract has its connection task and the status that task implies": {"contract 4"},
		flowsCheck: {"workflow task-7 runs", "connection-4 ended WORKFLOW_EXECUTION_STATUS_FAILED", "task 8 is open in the read model without a workflow"},
	} {
		for _, w := range want {
			if !strings.Contains(found[name], w) {
				t.Errorf("%s: no problem saying %q in:\n%s", name, w, found[name])
			}
		}
	}
}

func TestDuplicateNotificationsPassOnlyWithinTheCountedPossibleDuplicates(t *testing.T) {
	members := map[string][]string{"5": {"10", "11"}, "3": {"20", "21"}}
	w := &world{users: []*user{{id: "10", chat: 110}, {id: "11", chat: 111}, {id: "20", chat: 120}, {id: "21", chat: 121}}}
	var sent []botapifake.Message
	for k, n := range expectedNotes(map[string]*taskSeen{"7": twoStepTask()}, members, map[string]int64{"10": 110, "11": 111, "20": 120, "21": 121}, nil) {
		text := "<b>T-000007 (#7)</b>\n" + k.Token
		for range n {
			sent = append(sent, botapifake.Message{ChatID: k.Chat, Text: text})
		}
	}
	sent = append(sent, sent[0])
	o := &observed{Tasks: map[string]*taskSeen{"7": twoStepTask()}, Members: members, Sent: sent}
	for _, tc := range []struct {
		counted int64
		pass    bool
	}{{0, false}, {1, true}} {
		o.Stats = deliveryStats{PossibleDuplicates: tc.counted}
		v := &Verdict{}
		c := &check{}
		judgeNotes(v, c, o, w)
		if (len(c.Problems) == 0) != tc.pass || v.NotesExtra != 1 {
			t.Errorf("one message twice, %d counted: problems %v, extra %d", tc.counted, c.Problems, v.NotesExtra)
		}
	}
}

func TestAClosedConnectionWithoutItsWaitingFollowUpFails(t *testing.T) {
	conn := twoStepRecord()
	conn.Kind, conn.Contract = kindConnection, "4"
	for name, c := range map[string]struct {
		running map[string]bool
		problem string
	}{
		"no follow-up waits":                 {map[string]bool{}, "workflow followup-7-1 does not run"},
		"the follow-up waits":                {map[string]bool{"followup-7-1": true}, ""},
		"the connection's own workflow runs": {map[string]bool{"followup-7-1": true, "connection-4": true}, "workflow connection-4 runs"},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLedger()
			l.addTask(conn)
			v := judge(l, &observed{Tasks: map[string]*taskSeen{}, Running: c.running}, &world{}, &counters{})
			problems := problemsOf(v, flowsCheck)
			joined := strings.Join(problems, "\n")
			if c.problem == "" && len(problems) > 0 || c.problem != "" && !strings.Contains(joined, c.problem) {
				t.Fatalf("problems %q, want %q", joined, c.problem)
			}
		})
	}
}

func TestATextLostOrDoubledBeyondTheCountFails(t *testing.T) {
	conn := twoStepRecord()
	conn.Kind, conn.Contract, conn.Job = kindConnection, "4", 12
	phone := jobPhone(12)
	opened := smsrufake.Message{To: phone, Text: "Договор C-000004 открыт"}
	connected := smsrufake.Message{To: phone, Text: "Договор C-000004 действует"}
	for name, c := range map[string]struct {
		sms     []smsrufake.Message
		counted int64
		problem string
	}{
		"both milestones texted once":              {[]smsrufake.Message{opened, connected}, 0, ""},
		"the close's text lost":                    {[]smsrufake.Message{opened}, 0, "+79990000012 was texted 1 times, its tasks called for 2"},
		"a text doubled, and counted":              {[]smsrufake.Message{opened, opened, connected}, 1, ""},
		"a text doubled, and the notifier said no": {[]smsrufake.Message{opened, opened, connected}, 0, "1 texts arrived more than once, the notifier counted 0"},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLedger()
			l.addTask(conn)
			o := &observed{Tasks: map[string]*taskSeen{}, Running: map[string]bool{"followup-7-1": true}, SMS: c.sms, Stats: deliveryStats{SMSPossibleDuplicates: c.counted}}
			v := judge(l, o, &world{sms: &smsrufake.Server{}}, &counters{})
			problems := problemsOf(v, smsCheck)
			joined := strings.Join(problems, "\n")
			if c.problem == "" && len(problems) > 0 || c.problem != "" && !strings.Contains(joined, c.problem) {
				t.Fatalf("problems %q, want %q", joined, c.problem)
			}
		})
	}
}

// problemsOf is what a check of the verdict found.
func problemsOf(v *Verdict, name string) []string {
	for _, c := range v.Checks {
		if c.Name == name {
			return c.Problems
		}
	}
	return nil
}
