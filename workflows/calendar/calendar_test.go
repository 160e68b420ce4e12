package calendar

import (
	"strings"
	"testing"
	"time"
)

var moscow, _ = time.LoadLocation("Europe/Moscow")

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, moscow)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWorkingTimeRunsOverNightsWeekendsAndHolidays(t *testing.T) {
	c := Russian("Europe/Moscow", 2026, 2027)
	for _, tc := range []struct {
		from string
		work time.Duration
		want string
	}{
		{"2026-12-02 10:00", 4 * time.Hour, "2026-12-02 14:00"},  // within the day
		{"2026-12-02 16:00", 4 * time.Hour, "2026-12-03 11:00"},  // over the night
		{"2026-12-04 17:00", 4 * time.Hour, "2026-12-07 12:00"},  // Friday to Monday
		{"2026-12-05 12:00", time.Hour, "2026-12-07 10:00"},      // opened on Saturday
		{"2026-12-02 07:00", time.Hour, "2026-12-02 10:00"},      // before hours
		{"2026-06-10 17:00", 10 * time.Hour, "2026-06-15 10:00"}, // a shortened day, then the 12 June holiday and the weekend
		{"2026-12-30 17:00", 2 * time.Hour, "2027-01-11 10:00"},  // New Year: 31 December off, 1–8 January, the weekend
		{"2027-11-12 17:00", 2 * time.Hour, "2027-11-13 10:00"},  // a Saturday worked
		{"2026-12-02 18:00", 0, "2026-12-02 18:00"},              // nothing to wait for
	} {
		if got := c.Add(at(tc.from), tc.work); !got.Equal(at(tc.want)) {
			t.Errorf("%s + %v: %s, want %s", tc.from, tc.work, got.In(moscow).Format("2006-01-02 15:04 Mon"), tc.want)
		}
	}
	// a week of working time from Wednesday morning ends the next Wednesday
	if got := c.Add(at("2026-12-02 09:00"), 5*9*time.Hour); !got.Equal(at("2026-12-08 18:00")) {
		t.Errorf("a working week: %s", got.In(moscow))
	}
}

func TestWorkingTimeBetweenTwoMoments(t *testing.T) {
	c := Russian("Europe/Moscow", 2026)
	for _, tc := range []struct {
		from, to string
		want     time.Duration
	}{
		{"2026-12-02 10:00", "2026-12-02 14:30", 4*time.Hour + 30*time.Minute},
		{"2026-12-04 17:00", "2026-12-07 12:00", 4 * time.Hour},
		{"2026-06-11 08:00", "2026-06-15 09:30", 8*time.Hour + 30*time.Minute},
		{"2026-12-07 12:00", "2026-12-04 17:00", 0},
	} {
		if got := c.Between(at(tc.from), at(tc.to)); got != tc.want {
			t.Errorf("%s → %s: %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	// Add and Between agree
	from := at("2026-12-03 15:20")
	for _, w := range []time.Duration{time.Minute, 3 * time.Hour, 17 * time.Hour, 100 * time.Hour} {
		if got := c.Between(from, c.Add(from, w)); got != w {
			t.Errorf("Between(from, Add(from, %v)) = %v", w, got)
		}
	}
}

func TestACalendarThatCannotCountIsRefused(t *testing.T) {
	good := Russian("Europe/Moscow", 2026)
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		c    Calendar
		want string
	}{
		"no zone":        {Calendar{TimeZone: "Mars/Olympus", Week: Standard}, "unknown"},
		"inverted hours": {Calendar{TimeZone: "UTC", Week: [7]Day{{}, {1080, 540}}}, "end before they start"},
		"past midnight":  {Calendar{TimeZone: "UTC", Week: [7]Day{{}, {540, 1500}}}, "not within a day"},
		"no working day": {Calendar{TimeZone: "UTC"}, "no working hours"},
		"a bad date":     {Calendar{TimeZone: "UTC", Week: Standard, Dates: map[string]Day{"2026-13-01": {}}}, "not a date"},
	} {
		if err := tc.c.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tc.want)
		}
	}
}

func TestTheSeededYearsHaveTheirHolidays(t *testing.T) {
	c := Russian("Europe/Moscow", 2026)
	// 2026: 247 working days of a five-day week, 4 of them shortened
	days, short := 0, 0
	for d := at("2026-01-01 00:00"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if s, e := c.day(d); !s.IsZero() {
			days++
			if e.Sub(s) < 9*time.Hour {
				short++
			}
		}
	}
	if days != 247 || short != 4 {
		t.Fatalf("2026 has %d working days, %d shortened; want 247 and 4", days, short)
	}
}
