// Package calendar counts working time: a work group's calendar of working
// hours by weekday, in its time zone, with dates that differ — holidays,
// shortened pre-holiday days, Saturdays worked in place of a day off. An
// SLA of four working hours opened on Friday at 17:00 in a 09:00–18:00
// calendar runs out on Monday at 12:00; over a holiday, a day later.
//
// The functions are pure and deterministic, so task workflows call them
// directly: a calendar travels in the workflow's input, as the route does.
package calendar

import (
	"fmt"
	"sort"
	"time"
	_ "time/tzdata" // the zones are the binary's own, the same on every worker
)

// Day is a day's working hours, in minutes from midnight: [Start, End).
// Start == End is a day off.
type Day struct {
	Start int32 `json:"s"`
	End   int32 `json:"e"`
}

// Working tells whether the day has working hours.
func (d Day) Working() bool { return d.End > d.Start }

// Calendar is a group's working time.
type Calendar struct {
	ID       int64  `json:"id"`
	Version  int32  `json:"v"`
	TimeZone string `json:"tz"`
	// Week holds the hours by weekday, time.Sunday (0) to time.Saturday.
	Week [7]Day `json:"week"`
	// Dates are the days that differ from their weekday, by "2006-01-02":
	// a holiday (a day off), a shortened day, a working Saturday.
	Dates map[string]Day `json:"dates,omitempty"`
}

// horizon bounds the search for working time: a calendar whose week has
// working hours always finds it well within.
const horizon = 3 * 366

// Check refuses a calendar that cannot count: an unknown zone, hours out
// of a day or inverted, a week without working hours, a date not a date.
func (c *Calendar) Check() error {
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return fmt.Errorf("time zone %q is unknown", c.TimeZone)
	}
	any := false
	for i, d := range c.Week {
		if err := d.check(); err != nil {
			return fmt.Errorf("%s: %w", time.Weekday(i), err)
		}
		any = any || d.Working()
	}
	if !any {
		return fmt.Errorf("the week has no working hours: no SLA would ever run out")
	}
	for date, d := range c.Dates {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return fmt.Errorf("%q is not a date (YYYY-MM-DD)", date)
		}
		if err := d.check(); err != nil {
			return fmt.Errorf("%s: %w", date, err)
		}
	}
	return nil
}

func (d Day) check() error {
	switch {
	case d.Start < 0 || d.End > 24*60:
		return fmt.Errorf("hours %s–%s are not within a day", clock(d.Start), clock(d.End))
	case d.End < d.Start:
		return fmt.Errorf("hours %s–%s end before they start", clock(d.Start), clock(d.End))
	}
	return nil
}

func clock(m int32) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// location is the calendar's zone (UTC when it cannot be loaded: Check
// refuses such a calendar before it is saved).
func (c *Calendar) location() *time.Location {
	if l, err := time.LoadLocation(c.TimeZone); err == nil {
		return l
	}
	return time.UTC
}

// day is the working interval of the date at midnight m (zero, zero: off).
func (c *Calendar) day(m time.Time) (time.Time, time.Time) {
	d, ok := c.Dates[m.Format(time.DateOnly)]
	if !ok {
		d = c.Week[m.Weekday()]
	}
	if !d.Working() {
		return time.Time{}, time.Time{}
	}
	y, mo, dd := m.Date()
	return time.Date(y, mo, dd, 0, int(d.Start), 0, 0, m.Location()), time.Date(y, mo, dd, 0, int(d.End), 0, 0, m.Location())
}

// Add is the moment work of working time has passed after from; zero when
// the calendar has none within three years.
func (c *Calendar) Add(from time.Time, work time.Duration) time.Time {
	if work <= 0 {
		return from
	}
	loc := c.location()
	at := from.In(loc)
	y, m, d := at.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	for range horizon {
		start, end := c.day(midnight)
		if !start.IsZero() && end.After(at) {
			if start.Before(at) {
				start = at
			}
			if left := end.Sub(start); work <= left {
				return start.Add(work).In(from.Location())
			} else {
				work -= left
			}
		}
		midnight = midnight.AddDate(0, 0, 1)
	}
	return time.Time{}
}

// Between is the working time from from to to (zero when to is not after
// from).
func (c *Calendar) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	loc := c.location()
	at, until := from.In(loc), to.In(loc)
	y, m, d := at.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	var sum time.Duration
	for range horizon {
		if !midnight.Before(until) {
			break
		}
		start, end := c.day(midnight)
		if !start.IsZero() {
			start, end = later(start, at), earlier(end, until)
			if end.After(start) {
				sum += end.Sub(start)
			}
		}
		midnight = midnight.AddDate(0, 0, 1)
	}
	return sum
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// SortedDates lists the calendar's differing dates in order, for display.
func (c *Calendar) SortedDates() []string {
	out := make([]string, 0, len(c.Dates))
	for d := range c.Dates {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}
