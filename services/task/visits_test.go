package task

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
)

// dispatcher is a member of the installers' group who books their visits.
func dispatcher() context.Context {
	return servicetest.User(context.Background(), 30, servicetest.Operator, 3)
}

func technician(id int64) context.Context {
	return servicetest.User(context.Background(), id, servicetest.Operator, 3)
}

var moscow = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a moment days from today at hh:mm in Moscow.
func at(days, hh, mm int) time.Time {
	now := time.Now().In(moscow)
	return time.Date(now.Year(), now.Month(), now.Day()+days, hh, mm, 0, 0, moscow)
}

// workEveryDay gives the installers' group a working day of 8:00 to 20:00,
// every day of the week, so a test books on whatever day it runs.
func workEveryDay(t *testing.T, f *fixture) {
	t.Helper()
	_, err := f.visits.UpdateGroupSchedule(admin(), &taskv1.UpdateGroupScheduleRequest{GroupId: 3, Schedule: &taskv1.Schedule{
		TimeZone: "Europe/Moscow", Hours: &taskv1.WorkingHours{StartMinute: 8 * 60, EndMinute: 20 * 60, Weekdays: []int32{1, 2, 3, 4, 5, 6, 7}},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// awaitingRepair opens a repair task and takes it to "Field repair", which
// waits for a visit.
func awaitingRepair(t *testing.T, f *fixture) *taskv1.Task {
	t.Helper()
	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal"})
	if err != nil {
		t.Fatal(err)
	}
	adv, err := f.client.AdvanceTask(operator(), &taskv1.AdvanceTaskRequest{Id: made.GetTask().GetId(), ProcessId: made.GetTask().GetCurrentProcess().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	task := adv.GetTask()
	if task.GetCurrentProcess().GetName() != "Field repair" || !task.GetAwaitingVisit() {
		t.Fatalf("after diagnostics the task is %v", task)
	}
	return task
}

func book(f *fixture, ctx context.Context, task *taskv1.Task, start, end time.Time, techs ...int64) (*taskv1.Visit, error) {
	resp, err := f.visits.BookVisit(ctx, &taskv1.BookVisitRequest{
		TaskId: task.GetId(), ProcessId: task.GetCurrentProcess().GetId(),
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(end), TechnicianIds: techs, Note: "ring twice",
	})
	return resp.GetVisit(), err
}

func eventKinds(t *testing.T, f *fixture, taskID int64) []taskv1.TaskEventKind {
	t.Helper()
	resp, err := f.client.ListTaskEvents(operator(), &taskv1.ListTaskEventsRequest{TaskId: taskID})
	if err != nil {
		t.Fatal(err)
	}
	var out []taskv1.TaskEventKind
	for _, e := range resp.GetTaskEvents() {
		out = append(out, e.GetKind())
	}
	return out
}

func TestAVisitIsBookedReportedFromTheFieldAndCompletesItsProcess(t *testing.T) {
	f := withWorkflows(t)
	workEveryDay(t, f)
	task := awaitingRepair(t, f)

	waiting, err := f.client.ListTasks(dispatcher(), &taskv1.ListTasksRequest{GroupId: 3, AwaitingVisit: true})
	if err != nil || len(waiting.GetTasks()) != 1 || waiting.GetTasks()[0].GetId() != task.GetId() {
		t.Fatalf("tasks waiting for a visit: %v, %v", waiting.GetTasks(), err)
	}

	start, end := at(1, 10, 0), at(1, 12, 0)
	v, err := book(f, dispatcher(), task, start, end, 20, 21)
	if err != nil {
		t.Fatal(err)
	}
	if v.GetState() != taskv1.VisitState_VISIT_STATE_BOOKED || !v.GetStartTime().AsTime().Equal(start) || len(v.GetTechnicians()) != 2 ||
		v.GetAddress() != "" && !strings.Contains(v.GetMapUrl(), "openstreetmap") || v.GetCustomerPhone() != "+79160000003" || v.GetTariffName() != "Home 100" ||
		v.GetTaskNumber() != task.GetNumber() || v.GetNote() != "ring twice" || v.GetBookedBy() != 30 {
		t.Fatalf("booked %v", v)
	}
	got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: task.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetTask().GetAwaitingVisit() || got.GetTask().GetVisit().GetId() != v.GetId() || !got.GetTask().GetSlaDueAt().AsTime().Equal(end) {
		t.Fatalf("the booked task: awaiting %v, visit %v, SLA due %v (want the window's end %v)",
			got.GetTask().GetAwaitingVisit(), got.GetTask().GetVisit(), got.GetTask().GetSlaDueAt().AsTime(), end)
	}
	tomorrow, err := f.visits.ListVisits(technician(21), &taskv1.ListVisitsRequest{Technician: "me", From: timestamppb.New(at(1, 0, 0)), To: timestamppb.New(at(2, 0, 0))})
	if err != nil || len(tomorrow.GetVisits()) != 1 || tomorrow.GetVisits()[0].GetId() != v.GetId() {
		t.Fatalf("technician 21's tomorrow: %v, %v", tomorrow.GetVisits(), err)
	}

	// a technician not booked may not report, nor anyone out of order
	if _, err := f.visits.ReportVisit(technician(22), &taskv1.ReportVisitRequest{TaskId: task.GetId(), Report: taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a report by a technician not booked: %v, want PermissionDenied", err)
	}
	if _, err := f.visits.ReportVisit(technician(20), &taskv1.ReportVisitRequest{TaskId: task.GetId(), Report: taskv1.VisitReport_VISIT_REPORT_CANT_DO}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("can't do without a reason: %v, want InvalidArgument", err)
	}
	for _, r := range []taskv1.VisitReport{taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY, taskv1.VisitReport_VISIT_REPORT_ARRIVED} {
		if _, err := f.visits.ReportVisit(technician(20), &taskv1.ReportVisitRequest{TaskId: task.GetId(), Report: r}); err != nil {
			t.Fatalf("%v: %v", r, err)
		}
	}
	if _, err := f.visits.ReportVisit(technician(20), &taskv1.ReportVisitRequest{TaskId: task.GetId(), Report: taskv1.VisitReport_VISIT_REPORT_ON_THE_WAY}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("on the way after arriving: %v, want FailedPrecondition", err)
	}
	done, err := f.visits.ReportVisit(technician(21), &taskv1.ReportVisitRequest{TaskId: task.GetId(), Report: taskv1.VisitReport_VISIT_REPORT_DONE, Comment: "replaced the splitter"})
	if err != nil {
		t.Fatal(err)
	}
	if done.GetVisit().GetState() != taskv1.VisitState_VISIT_STATE_DONE {
		t.Fatalf("the visit after done: %v", done.GetVisit())
	}
	after, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: task.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetTask().GetCurrentProcess().GetName() != "Confirmation" || after.GetTask().GetVisit() != nil || after.GetTask().GetAwaitingVisit() {
		t.Fatalf("after the visit the task is %v", after.GetTask())
	}
	want := []taskv1.TaskEventKind{taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED, taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ON_THE_WAY,
		taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_ARRIVED, taskv1.TaskEventKind_TASK_EVENT_KIND_ADVANCED}
	if kinds := eventKinds(t, f, task.GetId()); !slices.Equal(kinds[len(kinds)-4:], want) {
		t.Fatalf("timeline %v, want it to end with %v", kinds, want)
	}

	// the booking reached the technicians, with the booking
	var booked *notifierv1.TaskNotice
	for deadline := time.Now().Add(5 * time.Second); booked == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		f.notifier.mu.Lock()
		for _, n := range f.notifier.notices {
			if n.GetKind() == taskv1.TaskEventKind_TASK_EVENT_KIND_VISIT_BOOKED {
				booked = n
			}
		}
		f.notifier.mu.Unlock()
	}
	if booked == nil || !slices.Equal(booked.GetUserIds(), []int64{20, 21}) || booked.GetVisit().GetId() != v.GetId() || !slices.Equal(booked.GetGroupIds(), []int64{3}) {
		t.Fatalf("the booking's notice: %v", booked)
	}
}

func TestBadBookingsAreRefusedAndNothingIsBooked(t *testing.T) {
	f := withWorkflows(t)
	workEveryDay(t, f)
	task := awaitingRepair(t, f)
	other := awaitingRepair(t, f)
	if _, err := book(f, dispatcher(), other, at(2, 10, 0), at(2, 12, 0), 20); err != nil {
		t.Fatal(err)
	}
	diagnosing, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "Slow"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		ctx    context.Context
		task   *taskv1.Task
		start  time.Time
		end    time.Time
		techs  []int64
		code   codes.Code
		reason string
	}{
		{"in the past", dispatcher(), task, at(-1, 10, 0), at(-1, 12, 0), []int64{20}, codes.InvalidArgument, "past"},
		{"ending before it starts", dispatcher(), task, at(2, 12, 0), at(2, 10, 0), []int64{20}, codes.InvalidArgument, "ends after"},
		{"outside working hours", dispatcher(), task, at(2, 19, 0), at(2, 21, 0), []int64{20}, codes.InvalidArgument, "working hours"},
		{"a non-member", dispatcher(), task, at(2, 10, 0), at(2, 12, 0), []int64{23}, codes.InvalidArgument, "not an active member"},
		{"an inactive member", dispatcher(), task, at(2, 10, 0), at(2, 12, 0), []int64{24}, codes.InvalidArgument, "not an active member"},
		{"overlapping another visit", dispatcher(), task, at(2, 11, 0), at(2, 13, 0), []int64{21, 20}, codes.AlreadyExists, other.GetNumber()},
		{"by someone outside the group", operator(), task, at(2, 14, 0), at(2, 16, 0), []int64{20}, codes.PermissionDenied, "members"},
		{"a task not waiting for a visit", dispatcher(), diagnosing.GetTask(), at(2, 14, 0), at(2, 16, 0), []int64{20}, codes.FailedPrecondition, "does not wait"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := book(f, c.ctx, c.task, c.start, c.end, c.techs...)
			if status.Code(err) != c.code || !strings.Contains(status.Convert(err).Message(), c.reason) {
				t.Fatalf("%v, want %v naming %q", err, c.code, c.reason)
			}
		})
	}
	if _, err := f.visits.GetVisit(operator(), &taskv1.GetVisitRequest{TaskId: task.GetId()}); status.Code(err) != codes.NotFound {
		t.Fatalf("the refused task's visit: %v, want NotFound", err)
	}
	// outside working time only with a supervisor's override
	over := &taskv1.BookVisitRequest{TaskId: task.GetId(), StartTime: timestamppb.New(at(2, 19, 0)), EndTime: timestamppb.New(at(2, 21, 0)), TechnicianIds: []int64{20}, Override: true}
	if _, err := f.visits.BookVisit(dispatcher(), over); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an override by a dispatcher: %v, want PermissionDenied", err)
	}
	if _, err := f.visits.BookVisit(admin(), over); err != nil {
		t.Fatalf("an override by a supervisor: %v", err)
	}
}

func TestTwoDispatchersBookingOneSlotAtOnceOneWinsEveryTime(t *testing.T) {
	f := withWorkflows(t)
	workEveryDay(t, f)
	a, b := awaitingRepair(t, f), awaitingRepair(t, f)
	const rounds = 100
	for i := range rounds {
		start := at(1+i%5, 8+i%10, 0)
		results := make([]error, 2)
		var wg sync.WaitGroup
		for j, task := range []*taskv1.Task{a, b} {
			wg.Go(func() {
				_, results[j] = book(f, dispatcher(), task, start, start.Add(90*time.Minute), 22)
			})
		}
		wg.Wait()
		won := slices.IndexFunc(results, func(err error) bool { return err == nil })
		lost := 1 - won
		if won < 0 || results[lost] == nil || status.Code(results[lost]) != codes.AlreadyExists {
			t.Fatalf("round %d: %v, want one booking and one AlreadyExists", i, results)
		}
		winner := []*taskv1.Task{a, b}[won]
		if _, err := f.visits.CancelVisit(dispatcher(), &taskv1.CancelVisitRequest{TaskId: winner.GetId(), Reason: fmt.Sprintf("round %d", i)}); err != nil {
			t.Fatalf("round %d: cancel: %v", i, err)
		}
	}
	for _, task := range []*taskv1.Task{a, b} {
		got, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: task.GetId()})
		if err != nil || !got.GetTask().GetAwaitingVisit() || got.GetTask().GetStuck() {
			t.Fatalf("task %s after the races: %v, %v", task.GetNumber(), got.GetTask(), err)
		}
	}
}

func TestAGroupsScheduleIsKeptAndCheckedAndAStaleEditRefused(t *testing.T) {
	f := newFixture(t)
	def, err := f.visits.GetGroupSchedule(operator(), &taskv1.GetGroupScheduleRequest{GroupId: 3})
	if err != nil {
		t.Fatal(err)
	}
	if s := def.GetSchedule(); s.GetTimeZone() != "Europe/Moscow" || s.GetHours().GetStartMinute() != 540 || len(s.GetHours().GetWeekdays()) != 5 || s.GetVersion() != 0 {
		t.Fatalf("the default schedule: %v", s)
	}
	edit := &taskv1.Schedule{TimeZone: "Asia/Yekaterinburg", CapacityPerDay: 4, Hours: &taskv1.WorkingHours{StartMinute: 480, EndMinute: 1020, Weekdays: []int32{6, 1, 2}},
		Technicians: []*taskv1.TechnicianSchedule{{UserId: 20, CapacityPerDay: 2, DaysOff: []string{"2027-01-02", "2027-01-01"}}}}
	saved, err := f.visits.UpdateGroupSchedule(admin(), &taskv1.UpdateGroupScheduleRequest{GroupId: 3, Schedule: edit})
	if err != nil {
		t.Fatal(err)
	}
	s := saved.GetSchedule()
	if s.GetVersion() != 1 || !slices.Equal(s.GetHours().GetWeekdays(), []int32{1, 2, 6}) || s.GetTechnicians()[0].GetName() != "User" ||
		!slices.Equal(s.GetTechnicians()[0].GetDaysOff(), []string{"2027-01-01", "2027-01-02"}) {
		t.Fatalf("saved %v", s)
	}
	if _, err := f.visits.UpdateGroupSchedule(admin(), &taskv1.UpdateGroupScheduleRequest{GroupId: 3, Schedule: edit, ExpectedVersion: 3}); status.Code(err) != codes.Aborted {
		t.Fatalf("a stale edit: %v, want Aborted", err)
	}
	for name, bad := range map[string]*taskv1.Schedule{
		"an unknown time zone":  {TimeZone: "Mars/Olympus", Hours: edit.GetHours()},
		"a day ending at start": {Hours: &taskv1.WorkingHours{StartMinute: 600, EndMinute: 600, Weekdays: []int32{1}}},
		"no working day":        {Hours: &taskv1.WorkingHours{StartMinute: 600, EndMinute: 700}},
		"a date that is not":    {Hours: edit.GetHours(), Technicians: []*taskv1.TechnicianSchedule{{UserId: 20, DaysOff: []string{"2027-02-30"}}}},
	} {
		if _, err := f.visits.UpdateGroupSchedule(admin(), &taskv1.UpdateGroupScheduleRequest{GroupId: 3, Schedule: bad}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := f.visits.UpdateGroupSchedule(operator(), &taskv1.UpdateGroupScheduleRequest{GroupId: 3, Schedule: edit}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an edit without settings.write: %v, want PermissionDenied", err)
	}
	if _, err := f.visits.GetGroupSchedule(operator(), &taskv1.GetGroupScheduleRequest{GroupId: 99}); status.Code(err) != codes.NotFound {
		t.Fatalf("a group that does not exist: %v, want NotFound", err)
	}
}

func TestWorkingTimeChecksDaysOffWeekdaysHoursAndTheTimeZone(t *testing.T) {
	row, err := scheduleFromProto(3, &taskv1.Schedule{TimeZone: "Europe/Moscow", Hours: &taskv1.WorkingHours{StartMinute: 540, EndMinute: 1080, Weekdays: []int32{1, 2, 3, 4, 5}},
		Technicians: []*taskv1.TechnicianSchedule{{UserId: 20, DaysOff: []string{"2026-12-07"}}, {UserId: 21, Hours: &taskv1.WorkingHours{StartMinute: 720, EndMinute: 1200, Weekdays: []int32{6}}}}}, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := row.schedule()
	if err != nil {
		t.Fatal(err)
	}
	mon := func(hh int) time.Time { return time.Date(2026, 12, 7, hh, 0, 0, 0, moscow) } // a Monday
	sat := func(hh int) time.Time { return time.Date(2026, 12, 12, hh, 0, 0, 0, moscow) }
	for _, c := range []struct {
		user       int64
		start, end time.Time
		want       string
	}{
		{22, mon(9), mon(11), ""},
		{22, mon(17), mon(19), "working hours are 09:00–18:00"},
		{22, mon(9).Add(-time.Minute), mon(11), "working hours"},
		{22, sat(10), sat(12), "not a working day"},
		{20, mon(10), mon(12), "day off"},
		{21, sat(12), sat(20), ""},
		{21, mon(12), mon(14), "not a working day"},
		// 9:00 in Moscow is 6:00 UTC: the zone counts, not the machine's
		{22, mon(9).UTC(), mon(11).UTC(), ""},
	} {
		if got := sc.outside(c.user, c.start, c.end); c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("user %d %v–%v: %q, want %q", c.user, c.start, c.end, got, c.want)
		}
	}
}
