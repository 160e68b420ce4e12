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
