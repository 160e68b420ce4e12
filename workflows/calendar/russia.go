package calendar

// The Russian production calendar for a five-day week, 09:00–18:00: the
// non-working holidays of the Labour Code (art. 112) and the Government's
// transfers of days off, and the pre-holiday days shortened by an hour.
//
// 2026 follows Government decree No. 1466 of 24 September 2025. 2027
// follows the Labour Code and the draft transfers published in 2026 (5
// November off, Saturday 13 November worked); operators check it against
// the decree as published and edit the calendar where it differs.

// Standard is the working week of the seeded calendars.
var Standard = [7]Day{{}, {540, 1080}, {540, 1080}, {540, 1080}, {540, 1080}, {540, 1080}, {}}

var (
	off       = Day{}
	shortened = Day{540, 1020}
	workday   = Day{540, 1080}
)

var russian = map[int]map[string]Day{
	2026: {
		"2026-01-01": off, "2026-01-02": off, "2026-01-05": off, "2026-01-06": off, "2026-01-07": off, "2026-01-08": off,
		"2026-01-09": off, // Saturday 3 January's day off
		"2026-02-23": off,
		"2026-03-09": off, // Sunday 8 March's
		"2026-04-30": shortened, "2026-05-01": off,
		"2026-05-08": shortened, "2026-05-11": off, // Saturday 9 May's
		"2026-06-11": shortened, "2026-06-12": off,
		"2026-11-03": shortened, "2026-11-04": off,
		"2026-12-31": off, // Sunday 4 January's
	},
	2027: {
		"2027-01-01": off, "2027-01-04": off, "2027-01-05": off, "2027-01-06": off, "2027-01-07": off, "2027-01-08": off,
		"2027-02-22": shortened, "2027-02-23": off,
		"2027-03-08": off,
		"2027-04-30": shortened, "2027-05-03": off, // Saturday 1 May's
		"2027-05-10": off,                          // Sunday 9 May's
		"2027-06-11": shortened, "2027-06-14": off, // Saturday 12 June's
		"2027-11-03": shortened, "2027-11-04": off, "2027-11-05": off,
		"2027-11-13": workday, // the Saturday worked for 5 November
		"2027-12-31": shortened,
	},
}

// Russian is the production calendar of the given years in zone tz; a
// year it does not know adds nothing.
func Russian(tz string, years ...int) Calendar {
	c := Calendar{TimeZone: tz, Week: Standard, Dates: map[string]Day{}}
	for _, y := range years {
		for d, day := range russian[y] {
			c.Dates[d] = day
		}
	}
	return c
}
