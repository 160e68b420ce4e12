package task

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// onDay is a moment of 10 March 2026 in Moscow, or of a day after (+days).
func onDay(days int, clock string) int64 {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-03-10 "+clock, moscow)
	if err != nil {
		panic(err)
	}
	return t.AddDate(0, 0, days).UnixMicro()
}

type pastStep struct {
	kind       taskv1.TaskEventKind
	at         int64
	process    int64
	resolution string
}

// history writes a task and its steps as their workflow would have.
func (f *fixture) history(t *testing.T, id int64, kind taskv1.TaskKind, route int64, state taskv1.TaskState, steps ...pastStep) {
	t.Helper()
	r := taskRow{
		ID: id, Number: fmt.Sprintf("T-%06d", id), Kind: int32(kind), State: int32(state), Title: "t", RouteID: route, RouteVersion: 1,
		RouteName: "r", ContractID: id, ContractNumber: "C", CustomerID: 3, CustomerName: "c", CreatedAt: steps[0].at, UpdatedAt: steps[len(steps)-1].at,
		WorkflowID: fmt.Sprintf("task-%d", id), Priority: int32(taskv1.TaskPriority_TASK_PRIORITY_NORMAL),
	}
	if state != taskv1.TaskState_TASK_STATE_OPEN {
		r.ClosedAt = steps[len(steps)-1].at
	}
	if err := f.server.store.db.Create(&r).Error; err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		e := eventRow{TaskID: id, Sequence: int64(i + 1), Kind: int32(s.kind), At: s.at, ProcessID: s.process, Resolution: s.resolution, NoticeSent: true}
		if err := f.server.store.db.Create(&e).Error; err != nil {
			t.Fatal(err)
		}
		if err := settleStays(f.server.store.db, id, e.Sequence); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	created   = taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED
	moved     = taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED
	breached  = taskv1.TaskEventKind_TASK_EVENT_KIND_SLA_BREACHED
	done      = taskv1.TaskEventKind_TASK_EVENT_KIND_CLOSED
	dropped   = taskv1.TaskEventKind_TASK_EVENT_KIND_CANCELLED
	service   = taskv1.TaskKind_TASK_KIND_SERVICE
	connected = taskv1.TaskKind_TASK_KIND_CONNECTION
)

func TestTheReportsFoldAPeriodsTasksAndSteps(t *testing.T) {
	f := newFixture(t)
	open, closedState, cancelledState := taskv1.TaskState_TASK_STATE_OPEN, taskv1.TaskState_TASK_STATE_CLOSED, taskv1.TaskState_TASK_STATE_CANCELLED
	// Repair (route 2): Diagnostics (6, SLA 4 h) → Field repair (7, SLA a day)
	f.history(t, 101, service, 2, closedState, pastStep{created, onDay(0, "10:00"), 6, ""}, pastStep{moved, onDay(0, "12:00"), 7, ""},
		pastStep{breached, onDay(1, "09:00"), 7, ""}, pastStep{done, onDay(1, "10:00"), 0, ""})
	f.history(t, 102, service, 2, cancelledState, pastStep{created, onDay(0, "11:00"), 6, ""}, pastStep{dropped, onDay(0, "15:00"), 0, ""})
	// connections (route 1): one from the day before, still open; one
	// activated a day after it opened; one refused as not feasible
	f.history(t, 103, connected, 1, open, pastStep{created, onDay(-1, "09:00"), 1, ""})
	f.history(t, 104, connected, 1, closedState, pastStep{created, onDay(0, "09:00"), 1, ""}, pastStep{done, onDay(1, "09:00"), 0, ""})
	f.history(t, 105, connected, 1, cancelledState, pastStep{created, onDay(0, "10:00"), 1, ""}, pastStep{dropped, onDay(0, "12:00"), 0, "not_feasible"})
	// a task that ended before the period counts nowhere
	f.history(t, 106, service, 2, closedState, pastStep{created, onDay(-3, "10:00"), 6, ""}, pastStep{done, onDay(-3, "11:00"), 0, ""})

	resp, err := f.reports.GetTaskReport(admin(), &taskv1.GetTaskReportRequest{From: "2026-03-10", To: "2026-03-11"})
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for _, d := range resp.GetDays() {
		days = append(days, fmt.Sprintf("%s +%d closed %d cancelled %d open %d", d.GetDate(), d.GetOpened(), d.GetClosed(), d.GetCancelled(), d.GetBacklog()))
	}
	if want := []string{"2026-03-10 +4 closed 0 cancelled 2 open 3", "2026-03-11 +0 closed 2 cancelled 0 open 1"}; fmt.Sprint(days) != fmt.Sprint(want) {
		t.Fatalf("days %v, want %v", days, want)
	}
	procs := map[int64]*taskv1.ProcessReport{}
	for _, p := range resp.GetProcesses() {
		procs[p.GetProcessId()] = p
	}
	diag, field := procs[6], procs[7]
	if diag == nil || diag.GetEntered() != 2 || diag.GetLeft() != 2 || diag.GetMedianSeconds() != 2*3600 || diag.GetP90Seconds() != 4*3600 ||
		diag.GetWithSla() != 2 || diag.GetBreached() != 0 || diag.GetProcessName() != "Diagnostics" || diag.GetGroupId() != 5 {
		t.Fatalf("Diagnostics %v", diag)
	}
	if field == nil || field.GetEntered() != 1 || field.GetLeft() != 1 || field.GetMedianSeconds() != 22*3600 || field.GetBreached() != 1 || field.GetWithSla() != 1 {
		t.Fatalf("Field repair %v", field)
	}
	fn := resp.GetFunnel()
	if fn.GetOpened() != 2 || fn.GetActivated() != 1 || fn.GetCancelled() != 1 || fn.GetInProgress() != 0 || fn.GetMedianLeadSeconds() != 24*3600 ||
		len(fn.GetCancelledBy()) != 1 || fn.GetCancelledBy()[0].GetResolution() != "not_feasible" {
		t.Fatalf("funnel %v", fn)
	}

	// by route and by group
	only, err := f.reports.GetTaskReport(admin(), &taskv1.GetTaskReportRequest{From: "2026-03-10", To: "2026-03-10", RouteId: 2, GroupId: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.GetDays()) != 1 || only.GetDays()[0].GetOpened() != 2 || len(only.GetProcesses()) != 1 || only.GetProcesses()[0].GetProcessId() != 7 || only.GetFunnel().GetOpened() != 0 {
		t.Fatalf("route 2, installers: %v", only)
	}
}

func TestAReportRefusesAPeriodItCannotRead(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		req   *taskv1.GetTaskReportRequest
		field string
	}{
		"not a date":      {&taskv1.GetTaskReportRequest{From: "10.03.2026", To: "2026-03-11"}, "from"},
		"backwards":       {&taskv1.GetTaskReportRequest{From: "2026-03-11", To: "2026-03-10"}, "to"},
		"too long":        {&taskv1.GetTaskReportRequest{From: "2024-01-01", To: "2026-03-10"}, "to"},
		"an unknown zone": {&taskv1.GetTaskReportRequest{From: "2026-03-10", To: "2026-03-10", TimeZone: "Mars/Olympus"}, "timeZone"},
	} {
		_, err := f.reports.GetTaskReport(admin(), tc.req)
		if status.Code(err) != codes.InvalidArgument || fmt.Sprint(servicetest.Fields(err)) != "["+tc.field+"]" {
			t.Errorf("%s: %v (fields %v), want 400 naming %s", name, err, servicetest.Fields(err), tc.field)
		}
	}
	if _, err := f.reports.GetTaskReport(operator(), &taskv1.GetTaskReportRequest{From: "2026-03-10", To: "2026-03-10"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an operator read the reports: %v", err)
	}
}

// Each entry keeps when its stay ended, however its steps arrive: a step
// written before the one preceding it (two local activities racing)
// still ends the right stays, and a retried step changes nothing.
func TestAStayEndsAtTheTasksNextMoveWhateverTheOrderOfTheWrites(t *testing.T) {
	f := newFixture(t)
	resp, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetTask().GetId()
	created := resp.GetTask().GetCreateTime().AsTime()
	at := func(s *taskv1.Transition, after time.Duration) *taskv1.Transition {
		s.Time = timestamppb.New(created.Add(after))
		return s
	}
	comment := at(step(id, 2, taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED, 6, 0, "looking"), time.Hour)
	field := at(step(id, 3, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED, 7, 6, ""), 2*time.Hour)
	back := at(step(id, 4, taskv1.TaskEventKind_TASK_EVENT_KIND_RETURNED, 6, 7, "no access"), 5*time.Hour)
	for _, s := range []*taskv1.Transition{back, comment, field, field} {
		if _, err := f.client.ApplyTransition(worker(), &taskv1.ApplyTransitionRequest{Transition: s}); err != nil {
			t.Fatal(err)
		}
	}
	var got []eventRow
	if err := f.server.store.db.Where("task_id = ?", id).Order("sequence").Find(&got).Error; err != nil {
		t.Fatal(err)
	}
	micro := func(d time.Duration) int64 { return created.Add(d).UnixMicro() }
	want := []int64{micro(2 * time.Hour), 0, micro(5 * time.Hour), 0}
	for i, e := range got {
		if e.LeftAt != want[i] {
			t.Errorf("step %d (kind %d) left at %d, want %d", e.Sequence, e.Kind, e.LeftAt, want[i])
		}
	}
}
