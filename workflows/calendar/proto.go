package calendar

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// FromProto reads a calendar as the API gives it (its week Monday first).
func FromProto(p *taskv1.Calendar) Calendar {
	c := Calendar{ID: p.GetId(), Version: p.GetVersion(), TimeZone: p.GetTimeZone(), Dates: map[string]Day{}}
	for i, d := range p.GetWeek() {
		if i < 7 {
			c.Week[(i+1)%7] = Day{Start: d.GetStartMinute(), End: d.GetEndMinute()}
		}
	}
	for _, d := range p.GetDates() {
		c.Dates[d.GetDate()] = Day{Start: d.GetHours().GetStartMinute(), End: d.GetHours().GetEndMinute()}
	}
	return c
}

// ToProto writes a calendar as the API gives it; notes are by date.
func ToProto(c Calendar, name string, notes map[string]string, groups []int64, updated time.Time) *taskv1.Calendar {
	p := &taskv1.Calendar{Id: c.ID, Name: name, TimeZone: c.TimeZone, Version: c.Version, GroupIds: groups}
	if !updated.IsZero() {
		p.UpdateTime = timestamppb.New(updated)
	}
	for i := range 7 {
		d := c.Week[(i+1)%7]
		p.Week = append(p.Week, &taskv1.DayHours{StartMinute: d.Start, EndMinute: d.End})
	}
	for _, date := range c.SortedDates() {
		d := c.Dates[date]
		p.Dates = append(p.Dates, &taskv1.CalendarDate{Date: date, Hours: &taskv1.DayHours{StartMinute: d.Start, EndMinute: d.End}, Note: notes[date]})
	}
	return p
}
