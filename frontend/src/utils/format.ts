// Dates and times in the reader's language and time zone.

/** A time the server left unset may come as the Unix epoch: that is no time. */
function known(iso: string | undefined): Date | null {
  if (!iso) return null
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) || d.getTime() <= 0 ? null : d
}

export function formatDateTime(iso: string | undefined, locale: string): string {
  const d = known(iso)
  if (!d) return ''
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d)
}

export function formatDate(iso: string | undefined, locale: string): string {
  const d = known(iso)
  if (!d) return ''
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(d)
}

/** 125 → "2:05" */
export function formatSeconds(total: number): string {
  const s = Math.max(0, Math.floor(total))
  const m = Math.floor(s / 60)
  return `${m}:${String(s % 60).padStart(2, '0')}`
}

const RELATIVE_UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
]

/** "in 3 hours", "5 minutes ago" — relative to now, in the reader's language. */
export function formatRelative(iso: string | undefined, locale: string, now: number = Date.now()): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const secs = Math.round((t - now) / 1000)
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })
  for (const [unit, size] of RELATIVE_UNITS) {
    if (Math.abs(secs) >= size) return rtf.format(Math.trunc(secs / size), unit)
  }
  return rtf.format(0, 'minute')
}

/** 5400 s → "1.5 h" (the SLA and idle durations people set in hours). */
export function formatHours(seconds: number | string | undefined, locale: string): string {
  const s = Number(seconds ?? 0)
  if (!Number.isFinite(s) || s <= 0) return ''
  const hours = Math.round((s / 3600) * 100) / 100
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'hour', unitDisplay: 'short', maximumFractionDigits: 2 }).format(hours)
}

/** Hours typed by a person → whole seconds for the API. */
export function hoursToSeconds(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours) || hours <= 0) return '0'
  return String(Math.round(hours * 3600))
}

export function secondsToHours(seconds: number | string | undefined): number | null {
  const s = Number(seconds ?? 0)
  if (!Number.isFinite(s) || s <= 0) return null
  return Math.round((s / 3600) * 100) / 100
}

/** A time of day: "10:30" (or "10:30 AM"), in the reader's language. */
export function formatTime(t: number | string | undefined, locale: string): string {
  const d = typeof t === 'number' ? new Date(t) : known(t)
  if (!d || Number.isNaN(d.getTime())) return ''
  return new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(d)
}

/** A window: "12 May 2026, 10:00–12:00", or both ends in full when it spans days. */
export function formatWindow(start: string | undefined, end: string | undefined, locale: string): string {
  const a = known(start)
  const b = known(end)
  if (!a || !b) return formatDateTime(start, locale)
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).formatRange(a, b)
}

/** A day ("YYYY-MM-DD") as the reader writes it; opts say how much of it. */
export function formatDay(date: string, locale: string, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium' }): string {
  const [y, m, d] = date.split('-').map(Number)
  if (!y || !m || !d) return ''
  return new Intl.DateTimeFormat(locale, opts).format(new Date(y, m - 1, d, 12))
}

/** A weekday's short name, 1 Monday … 7 Sunday. */
export function weekdayName(weekday: number, locale: string, width: 'short' | 'long' = 'short'): string {
  // 2024-01-01 was a Monday.
  return new Intl.DateTimeFormat(locale, { weekday: width }).format(new Date(2024, 0, weekday, 12))
}
