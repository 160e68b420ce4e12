package task

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/servicetest"
	"github.com/telecomcrm/crm/workflows/calendar"
)

// nineToSix is a Monday-to-Friday week, 09:00–18:00.
func nineToSix() []*taskv1.DayHours {
	week := make([]*taskv1.DayHours, 7)
	for i := range week {
		week[i] = &taskv1.DayHours{}
		if i < 5 {
			week[i] = &taskv1.DayHours{StartMinute: 540, EndMinute: 1080}
		}
	}
	return week
}

func TestTheProductionCalendarIsSeededForNoGroup(t *testing.T) {
	f := newFixture(t)
	list, err := f.calendars.ListCalendars(operator(), &taskv1.ListCalendarsRequest{})
	if err != nil || len(list.GetCalendars()) != 1 {
		t.Fatalf("%v, %v", list, err)
	}
	c := list.GetCalendars()[0]
	if c.GetTimeZone() != "Europe/Moscow" || len(c.GetWeek()) != 7 || c.GetWeek()[0].GetStartMinute() != 540 || c.GetWeek()[5].GetEndMinute() != 0 ||
		len(c.GetGroupIds()) != 0 || c.GetVersion() != 1 {
		t.Fatalf("seeded %v", c)
	}
	holidays := map[string]bool{}
	for _, d := range c.GetDates() {
		holidays[d.GetDate()] = d.GetHours().GetEndMinute() == 0
		if d.GetNote() == "" {
			t.Errorf("%s has no note saying what it is", d.GetDate())
		}
	}
	if !holidays["2026-01-07"] || !holidays["2026-06-12"] || !holidays["2027-11-05"] || holidays["2027-11-13"] {
		t.Fatalf("dates %v", c.GetDates())
	}
}

func TestACalendarThatCannotCountIsRefusedWithItsField(t *testing.T) {
	f := newFixture(t)
	inverted := nineToSix()
	inverted[0] = &taskv1.DayHours{StartMinute: 1080, EndMinute: 540}
	for name, tc := range map[string]struct {
		c     *taskv1.Calendar
		field string
	}{
		"no name":        {&taskv1.Calendar{Name: " ", TimeZone: "UTC", Week: nineToSix()}, "calendar.name"},
		"unknown zone":   {&taskv1.Calendar{Name: "x", TimeZone: "Mars/Olympus", Week: nineToSix()}, "calendar.timeZone"},
		"inverted hours": {&taskv1.Calendar{Name: "x", TimeZone: "UTC", Week: inverted}, "calendar.week"},
		"no working day": {&taskv1.Calendar{Name: "x", TimeZone: "UTC", Week: make([]*taskv1.DayHours, 7)}, "calendar.week"},
		"six days":       {&taskv1.Calendar{Name: "x", TimeZone: "UTC", Week: nineToSix()[:6]}, "week"},
		"a bad date":     {&taskv1.Calendar{Name: "x", TimeZone: "UTC", Week: nineToSix(), Dates: []*taskv1.CalendarDate{{Date: "2026-02-30"}}}, "calendar.dates"},
		"a date twice": {&taskv1.Calendar{Name: "x", TimeZone: "UTC", Week: nineToSix(), Dates: []*taskv1.CalendarDate{
			{Date: "2026-02-23", Hours: &taskv1.DayHours{}}, {Date: "2026-02-23", Hours: &taskv1.DayHours{}}}}, "calendar.dates[1].date"},
		"unknown group": {&taskv1.Calendar{Name: "x", TimeZone: "UTC", Week: nineToSix(), GroupIds: []int64{999}}, "calendar.groupIds"},
	} {
		_, err := f.calendars.CreateCalendar(admin(), &taskv1.CreateCalendarRequest{Calendar: tc.c})
		if status.Code(err) != codes.InvalidArgument || !slices.ContainsFunc(servicetest.Fields(err), func(f string) bool { return strings.HasPrefix(f, tc.field) }) {
			t.Errorf("%s: %v (fields %v), want 400 naming %s", name, err, servicetest.Fields(err), tc.field)
		}
	}
	if _, err := f.calendars.CreateCalendar(operator(), &taskv1.CreateCalendarRequest{Calendar: &taskv1.Calendar{Name: "x", TimeZone: "UTC", Week: nineToSix()}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an operator made a calendar: %v", err)
	}
	list, _ := f.calendars.ListCalendars(operator(), &taskv1.ListCalendarsRequest{})
	if len(list.GetCalendars()) != 1 {
		t.Fatalf("refusals wrote calendars: %v", list)
	}
}

func TestAGroupsCalendarCountsItsNewTasksSLAs(t *testing.T) {
	f := newFixture(t)
	seeded, err := f.calendars.GetCalendar(operator(), &taskv1.GetCalendarRequest{Id: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := seeded.GetCalendar()
	c.GroupIds = []int64{5} // support: Repair's diagnostics
	updated, err := f.calendars.UpdateCalendar(admin(), &taskv1.UpdateCalendarRequest{Id: c.GetId(), Calendar: c})
	if err != nil || updated.GetCalendar().GetVersion() != 2 || len(updated.GetCalendar().GetGroupIds()) != 1 {
		t.Fatalf("assigned: %v, %v", updated, err)
	}

	made, err := f.client.CreateTask(operator(), &taskv1.CreateTaskRequest{ContractId: activeContract, RouteId: 2, Title: "No signal"})
	if err != nil {
		t.Fatal(err)
	}
	task := made.GetTask()
	cal := calendar.FromProto(updated.GetCalendar())
	want := cal.Add(task.GetCreateTime().AsTime(), 4*time.Hour)
	if got := task.GetSlaDueAt().AsTime(); !got.Equal(want) {
		t.Fatalf("the SLA runs out %v, want %v in working time", got, want)
	}
	detail, err := f.client.GetTask(operator(), &taskv1.GetTaskRequest{Id: task.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Duration(detail.GetTask().GetSlaWorkingSecondsLeft()) * time.Second; detail.GetTask().SlaWorkingSecondsLeft == nil || left > 4*time.Hour || left < 4*time.Hour-time.Minute {
		t.Fatalf("working time left %v, want the 4 h just begun", left)
	}

	// a second calendar takes the group; the first, serving none, goes
	week := nineToSix()
	week[5] = &taskv1.DayHours{StartMinute: 600, EndMinute: 960}
	second, err := f.calendars.CreateCalendar(admin(), &taskv1.CreateCalendarRequest{Calendar: &taskv1.Calendar{Name: "Support, Saturdays too", TimeZone: "Asia/Novosibirsk", Week: week, GroupIds: []int64{5}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.calendars.DeleteCalendar(admin(), &taskv1.DeleteCalendarRequest{Id: second.GetCalendar().GetId()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("removing a calendar a group uses: %v", err)
	}
	first, _ := f.calendars.GetCalendar(operator(), &taskv1.GetCalendarRequest{Id: 1})
	if len(first.GetCalendar().GetGroupIds()) != 0 {
		t.Fatalf("the group is still the first calendar's: %v", first.GetCalendar().GetGroupIds())
	}
	if _, err := f.calendars.DeleteCalendar(admin(), &taskv1.DeleteCalendarRequest{Id: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.calendars.GetCalendar(operator(), &taskv1.GetCalendarRequest{Id: 1}); status.Code(err) != codes.NotFound {
		t.Fatalf("the removed calendar: %v", err)
	}
}

func TestARoutesEscalationAndWaitingAreCheckedAndKept(t *testing.T) {
	f := newFixture(t)
	process := func(p *taskv1.Process) *taskv1.CreateRouteRequest {
		p.Name, p.GroupId = "Diagnostics", 5
		return &taskv1.CreateRouteRequest{Route: &taskv1.Route{Name: "Escalating", Processes: []*taskv1.Process{p, {Name: "Check", GroupId: 5}}}}
	}
	for name, tc := range map[string]struct {
		p     *taskv1.Process
		field string
	}{
		"a warning without an SLA":      {&taskv1.Process{WarnPercent: 80}, "processes[0].warnPercent"},
		"escalating without an SLA":     {&taskv1.Process{EscalateAfterSeconds: 3600, EscalateToQueue: true}, "processes[0].escalateAfterSeconds"},
		"escalating to nothing":         {&taskv1.Process{SlaSeconds: 3600, EscalateAfterSeconds: 3600}, "processes[0].escalateAfterSeconds"},
		"what without when":             {&taskv1.Process{SlaSeconds: 3600, EscalateRaisePriority: true}, "processes[0].escalateAfterSeconds"},
		"waiting with a visit":          {&taskv1.Process{WaitsForCustomer: true, Visit: true}, "processes[0].waitsForCustomer"},
		"waiting and warning":           {&taskv1.Process{WaitsForCustomer: true, SlaSeconds: 3600, WarnPercent: 50}, "processes[0].waitsForCustomer"},
		"a warning past the SLA itself": {&taskv1.Process{SlaSeconds: 3600, WarnPercent: 100}, "warnPercent"},
	} {
		_, err := f.client.CreateRoute(admin(), process(tc.p))
		if status.Code(err) != codes.InvalidArgument || !slices.ContainsFunc(servicetest.Fields(err), func(f string) bool { return strings.Contains(f, tc.field) }) {
			t.Errorf("%s: %v (fields %v), want 400 naming %s", name, err, servicetest.Fields(err), tc.field)
		}
	}
	made, err := f.client.CreateRoute(admin(), process(&taskv1.Process{SlaSeconds: 4 * 3600, WarnPercent: 80, EscalateAfterSeconds: 3600, EscalateRaisePriority: true, EscalateToQueue: true}))
	if err != nil {
		t.Fatal(err)
	}
	p := made.GetRoute().GetProcesses()[0]
	if p.GetWarnPercent() != 80 || p.GetEscalateAfterSeconds() != 3600 || !p.GetEscalateRaisePriority() || !p.GetEscalateToQueue() {
		t.Fatalf("kept %v", p)
	}
}
