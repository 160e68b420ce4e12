// Days and wall-clock times. A group's working time is kept in its own
// time zone (the schedule's); the calendar is drawn in the reader's. Both
// meet as instants (milliseconds since the epoch): a schedule's "9:00 on
// 2026-05-12 in Europe/Moscow" becomes an instant, and an instant is placed
// on the reader's day by its local wall clock.
//
// Dates are "YYYY-MM-DD" strings: a day, not an instant.

const MINUTE = 60_000
const DAY = 86_400_000

export interface Interval {
  start: number
  end: number
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

function parts(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number)
  return [y ?? 1970, m ?? 1, d ?? 1]
}

/** The date n days after (or before) date. */
export function addDays(date: string, n: number): string {
  const [y, m, d] = parts(date)
  const t = new Date(Date.UTC(y, m - 1, d + n))
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`
}

/** 1 Monday … 7 Sunday, as the schedule counts them. */
export function isoWeekday(date: string): number {
  const [y, m, d] = parts(date)
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay()
  return wd === 0 ? 7 : wd
}

/** The Monday of the week date falls in. */
export function weekStart(date: string): string {
  return addDays(date, 1 - isoWeekday(date))
}

// --- the reader's own time zone ---------------------------------------------

/** The reader's date at instant t. */
export function localDate(t: number): string {
  const d = new Date(t)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

/** The instant the reader's day begins. */
export function localDayStart(date: string): number {
  const [y, m, d] = parts(date)
  return new Date(y, m - 1, d).getTime()
}

/** The instant of a wall-clock time on the reader's day ("10:30" → 10:30 that day). */
export function localInstant(date: string, minute: number): number {
  const [y, m, d] = parts(date)
  return new Date(y, m - 1, d, Math.floor(minute / 60), minute % 60).getTime()
}

/** "HH:MM" of instant t on the reader's clock. */
export function localClock(t: number): string {
  const d = new Date(t)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** "10:30" → 630; null when it is not a time. */
export function parseClock(s: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim())
  if (!m) return null
  const h = Number(m[1])
  const min = Number(m[2])
  if (h > 24 || min > 59 || (h === 24 && min > 0)) return null
  return h * 60 + min
}

/** 630 → "10:30" */
export function formatClock(minute: number): string {
  return `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`
}

/**
 * Minutes from the reader's midnight of date to instant t, by the wall
 * clock (a day when clocks change still runs 0…1440): 0 before the day,
 * 1440 after it.
 */
export function wallMinutes(t: number, date: string): number {
  const start = localDayStart(date)
  if (t <= start) return 0
  if (t >= localDayStart(addDays(date, 1))) return 1440
  const d = new Date(t)
  return d.getHours() * 60 + d.getMinutes() + d.getSeconds() / 60
}

// --- a named time zone ---------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>()

/** A formatter giving the wall clock in tz; an unknown zone falls back to the reader's. */
function formatter(tz: string | undefined): Intl.DateTimeFormat {
  const key = tz ?? ''
  let f = formatters.get(key)
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = {
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }
    try {
      f = new Intl.DateTimeFormat('en-US', { ...opts, timeZone: tz || undefined })
    } catch {
      f = new Intl.DateTimeFormat('en-US', opts)
    }
    formatters.set(key, f)
  }
  return f
}

/** The wall clock in tz at instant t, read as if it were UTC. */
function wallAsUtc(t: number, tz: string | undefined): number {
  const got: Record<string, number> = {}
  for (const p of formatter(tz).formatToParts(new Date(t))) if (p.type !== 'literal') got[p.type] = Number(p.value)
  return Date.UTC(got.year ?? 1970, (got.month ?? 1) - 1, got.day ?? 1, got.hour ?? 0, got.minute ?? 0, got.second ?? 0)
}

/** The date in tz at instant t. */
export function zonedDate(t: number, tz: string | undefined): string {
  const w = new Date(wallAsUtc(t, tz))
  return `${w.getUTCFullYear()}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}`
}

/**
 * The instant the wall clock in tz shows minute (after midnight) on date.
 * A time skipped when clocks go forward lands just after the gap; one that
 * happens twice when they go back is its first occurrence.
 */
export function zonedInstant(date: string, minute: number, tz: string | undefined): number {
  const [y, m, d] = parts(date)
  const wall = Date.UTC(y, m - 1, d) + minute * MINUTE
  const second = (t: number) => Math.floor(t / 1000) * 1000
  // The offset at a guess near the answer, then once more at the answer.
  let t = wall - (wallAsUtc(wall, tz) - second(wall))
  const offset = wallAsUtc(t, tz) - second(t)
  t = wall - offset
  return t
}

/** The dates (in tz) whose days meet [from, to). */
export function zonedDates(from: number, to: number, tz: string | undefined): string[] {
  const out: string[] = []
  let date = zonedDate(from - DAY, tz)
  const last = zonedDate(to + DAY, tz)
  while (date <= last && out.length < 400) {
    out.push(date)
    date = addDays(date, 1)
  }
  return out
}

/** The part of a that lies within b, or null. */
export function clip(a: Interval, b: Interval): Interval | null {
  const start = Math.max(a.start, b.start)
  const end = Math.min(a.end, b.end)
  return end > start ? { start, end } : null
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end
}
