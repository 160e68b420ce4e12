package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	// Time zones are read from the binary, not from the machine.
	_ "time/tzdata"

	"gorm.io/gorm"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
	"github.com/telecomcrm/crm/services/platform/micros"
)

// scheduleRow is a work group's working time; a group without one works
// the default: Monday to Friday, 9:00 to 18:00, in the deployment's time
// zone, with no daily limit.
type scheduleRow struct {
	GroupID        int64 `gorm:"primaryKey;autoIncrement:false"`
	TimeZone       string
	StartMinute    int32
	EndMinute      int32
	Weekdays       string
	CapacityPerDay int32
	// Technicians is the per-person overrides, as JSON (techSchedule).
	Technicians string
	Version     int32
	UpdatedAt   int64 `gorm:"autoUpdateTime:false"`
}

func (scheduleRow) TableName() string { return "group_schedules" }

// techSchedule is one technician's own working time.
type techSchedule struct {
	UserID   int64    `json:"userId"`
	Hours    *hours   `json:"hours,omitempty"`
	Capacity int32    `json:"capacity,omitempty"`
	DaysOff  []string `json:"daysOff,omitempty"`
}

type hours struct {
	Start    int32   `json:"start"`
	End      int32   `json:"end"`
	Weekdays []int32 `json:"weekdays"`
}

// schedule is a group's working time, ready to check a window against.
type schedule struct {
	row   scheduleRow
	loc   *time.Location
	hours hours
	techs []techSchedule
}

func defaultSchedule(groupID int64, zone string) scheduleRow {
	return scheduleRow{GroupID: groupID, TimeZone: zone, StartMinute: 9 * 60, EndMinute: 18 * 60, Weekdays: "1,2,3,4,5"}
}

func (s *store) schedule(ctx context.Context, groupID int64, zone string) (*schedule, error) {
	row := defaultSchedule(groupID, zone)
	if err := s.db.WithContext(ctx).Take(&row, "group_id = ?", groupID).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	return row.schedule()
}

func (r scheduleRow) schedule() (*schedule, error) {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("group %d's time zone %q: %w", r.GroupID, r.TimeZone, err)
	}
	sc := &schedule{row: r, loc: loc, hours: hours{Start: r.StartMinute, End: r.EndMinute, Weekdays: parseWeekdays(r.Weekdays)}}
	if r.Technicians != "" {
		if err := json.Unmarshal([]byte(r.Technicians), &sc.techs); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

func parseWeekdays(s string) []int32 {
	var out []int32
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, int32(n))
		}
	}
	return out
}

func formatWeekdays(days []int32) string {
	parts := make([]string, len(days))
	for i, d := range days {
		parts[i] = strconv.Itoa(int(d))
	}
	return strings.Join(parts, ",")
}

// of is a technician's own working time: the group's where they have none.
func (sc *schedule) of(userID int64) (h hours, capacity int32, daysOff []string) {
	h, capacity = sc.hours, sc.row.CapacityPerDay
	if i := slices.IndexFunc(sc.techs, func(t techSchedule) bool { return t.UserID == userID }); i >= 0 {
		t := sc.techs[i]
		if t.Hours != nil {
			h = *t.Hours
		}
		if t.Capacity > 0 {
			capacity = t.Capacity
		}
		daysOff = t.DaysOff
	}
	return h, capacity, daysOff
}

// outside says why a window is outside a technician's working time
// (empty: it is inside). A window lies within one working day.
func (sc *schedule) outside(userID int64, start, end time.Time) string {
	h, _, daysOff := sc.of(userID)
	ls, le := start.In(sc.loc), end.In(sc.loc)
	day := ls.Format(time.DateOnly)
	if slices.Contains(daysOff, day) {
		return fmt.Sprintf("%s is a day off", day)
	}
	wd := int32(ls.Weekday())
	if wd == 0 {
		wd = 7
	}
	if !slices.Contains(h.Weekdays, wd) {
		return fmt.Sprintf("%s is not a working day (%s)", day, ls.Weekday())
	}
	midnight := time.Date(ls.Year(), ls.Month(), ls.Day(), 0, 0, 0, 0, sc.loc)
	from, to := midnight.Add(time.Duration(h.Start)*time.Minute), midnight.Add(time.Duration(h.End)*time.Minute)
	if ls.Before(from) || le.After(to) {
		return fmt.Sprintf("the working hours are %s–%s (%s)", clock(h.Start), clock(h.End), sc.row.TimeZone)
	}
	return ""
}

// dayBounds is the local day a time falls on, as [start, end).
func (sc *schedule) dayBounds(t time.Time) (time.Time, time.Time) {
	l := t.In(sc.loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, sc.loc)
	return start, start.AddDate(0, 0, 1)
}

func clock(minute int32) string { return fmt.Sprintf("%02d:%02d", minute/60, minute%60) }

func (sc *schedule) toProto(names map[int64]string) *taskv1.Schedule {
	out := &taskv1.Schedule{
		GroupId: sc.row.GroupID, TimeZone: sc.row.TimeZone, CapacityPerDay: sc.row.CapacityPerDay, Version: sc.row.Version,
		Hours: &taskv1.WorkingHours{StartMinute: sc.hours.Start, EndMinute: sc.hours.End, Weekdays: sc.hours.Weekdays},
	}
	if sc.row.UpdatedAt != 0 {
		out.UpdateTime = micros.Proto(sc.row.UpdatedAt)
	}
	for _, t := range sc.techs {
		ts := &taskv1.TechnicianSchedule{UserId: t.UserID, Name: names[t.UserID], CapacityPerDay: t.Capacity, DaysOff: t.DaysOff}
		if t.Hours != nil {
			ts.Hours = &taskv1.WorkingHours{StartMinute: t.Hours.Start, EndMinute: t.Hours.End, Weekdays: t.Hours.Weekdays}
		}
		out.Technicians = append(out.Technicians, ts)
	}
	return out
}

// checkHours refuses working hours that end before they start or have no
// working day.
func checkHours(field string, h *taskv1.WorkingHours, bad func(field, format string, args ...any)) hours {
	if h.GetEndMinute() <= h.GetStartMinute() {
		bad(field+".endMinute", "the working day ends after it starts")
	}
	if len(h.GetWeekdays()) == 0 {
		bad(field+".weekdays", "name at least one working day")
	}
	days := slices.Clone(h.GetWeekdays())
	slices.Sort(days)
	return hours{Start: h.GetStartMinute(), End: h.GetEndMinute(), Weekdays: days}
}

// scheduleFromProto checks an edited schedule and makes its row.
func scheduleFromProto(groupID int64, in *taskv1.Schedule, zone string) (scheduleRow, error) {
	var v []fault.Violation
	bad := func(field, format string, args ...any) {
		v = append(v, fault.Violation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	row := scheduleRow{GroupID: groupID, TimeZone: strings.TrimSpace(in.GetTimeZone()), CapacityPerDay: in.GetCapacityPerDay()}
	if row.TimeZone == "" {
		row.TimeZone = zone
	}
	if _, err := time.LoadLocation(row.TimeZone); err != nil {
		bad("timeZone", "%q is not a time zone (such as Europe/Moscow)", row.TimeZone)
	}
	if in.GetHours() == nil {
		bad("hours", "the group's working hours are required")
	}
	h := checkHours("hours", in.GetHours(), bad)
	row.StartMinute, row.EndMinute, row.Weekdays = h.Start, h.End, formatWeekdays(h.Weekdays)
	var techs []techSchedule
	seen := map[int64]bool{}
	for i, t := range in.GetTechnicians() {
		f := fmt.Sprintf("technicians[%d]", i)
		if seen[t.GetUserId()] {
			bad(f+".userId", "user %d is listed twice", t.GetUserId())
		}
		seen[t.GetUserId()] = true
		ts := techSchedule{UserID: t.GetUserId(), Capacity: t.GetCapacityPerDay()}
		if t.GetHours() != nil {
			th := checkHours(f+".hours", t.GetHours(), bad)
			ts.Hours = &th
		}
		for j, d := range t.GetDaysOff() {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				bad(fmt.Sprintf("%s.daysOff[%d]", f, j), "%q is not a date (YYYY-MM-DD)", d)
			}
		}
		ts.DaysOff = slices.Compact(slices.Sorted(slices.Values(t.GetDaysOff())))
		techs = append(techs, ts)
	}
	if len(v) > 0 {
		return row, &fault.Error{Kind: fault.Invalid, Message: v[0].Description, Violations: v}
	}
	if len(techs) > 0 {
		raw, _ := json.Marshal(techs)
		row.Technicians = string(raw)
	}
	return row, nil
}

// saveSchedule replaces a group's schedule; expected is the version the
// editor saw (0: any).
func (s *store) saveSchedule(ctx context.Context, row scheduleRow, expected int32) (scheduleRow, error) {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur scheduleRow
		err := tx.Take(&cur, "group_id = ?", row.GroupID).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			cur.Version = 0
		case err != nil:
			return err
		}
		if expected != 0 && expected != cur.Version {
			return fault.New(fault.Aborted, "the schedule was changed meanwhile (version %d, you saw %d); reload it", cur.Version, expected)
		}
		row.Version, row.UpdatedAt = cur.Version+1, s.clock()
		return tx.Save(&row).Error
	})
	return row, err
}
