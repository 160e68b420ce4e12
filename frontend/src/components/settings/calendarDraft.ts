// A calendar as its editor holds it: each weekday working or not, with
// its hours as "HH:MM"; the dates that differ, each a day off or worked
// (with hours); the groups it serves. Checked here as the server checks
// it, so most mistakes are named before saving.

import type { Calendar } from '@/api/client'
import type { FieldProblems } from '@/api/problems'
import { formatClock, parseClock } from '@/components/visits/zone'

export interface DayRow {
  working: boolean
  start: string
  end: string
}

export interface DateRow {
  key: number
  date: string
  working: boolean
  start: string
  end: string
  note: string
}

export interface CalendarDraft {
  name: string
  timeZone: string
  /** Monday first. */
  week: DayRow[]
  dates: DateRow[]
  groupIds: string[]
}

let nextKey = 1

function dayRow(start?: number, end?: number): DayRow {
  const working = (end ?? 0) > (start ?? 0)
  return { working, start: working ? formatClock(start ?? 0) : '09:00', end: working ? formatClock(end ?? 0) : '18:00' }
}

export function draftOfCalendar(c?: Calendar): CalendarDraft {
  if (!c) {
    return {
      name: '',
      timeZone: 'Europe/Moscow',
      week: [0, 1, 2, 3, 4, 5, 6].map((i) => (i < 5 ? dayRow(540, 1080) : dayRow())),
      dates: [],
      groupIds: [],
    }
  }
  return {
    name: c.name ?? '',
    timeZone: c.timeZone ?? '',
    week: (c.week ?? []).map((d) => dayRow(d.startMinute, d.endMinute)),
    dates: (c.dates ?? []).map((d) => {
      const r = dayRow(d.hours?.startMinute, d.hours?.endMinute)
      return { key: nextKey++, date: d.date ?? '', note: d.note ?? '', ...r }
    }),
    groupIds: [...(c.groupIds ?? [])],
  }
}

/** Adds a date, a day off by default; false when the date is there already. */
export function addDate(d: CalendarDraft, date: string): boolean {
  if (!date || d.dates.some((r) => r.date === date)) return false
  d.dates.push({ key: nextKey++, date, working: false, start: '09:00', end: '18:00', note: '' })
  d.dates.sort((a, b) => a.date.localeCompare(b.date))
  return true
}

function checkHours(field: string, r: DayRow, out: FieldProblems): void {
  if (!r.working) return
  const start = parseClock(r.start)
  const end = parseClock(r.end)
  if (start === null) out[`${field}.startMinute`] = { key: 'validation.required' }
  if (end === null) out[`${field}.endMinute`] = { key: 'validation.required' }
  else if (start !== null && end <= start) out[`${field}.endMinute`] = { key: 'groups.schedule.errors.endBeforeStart' }
}

export function validateCalendar(d: CalendarDraft): FieldProblems {
  const out: FieldProblems = {}
  if (!d.name.trim()) out.name = { key: 'validation.required' }
  if (!d.timeZone.trim()) out.timeZone = { key: 'validation.required' }
  d.week.forEach((r, i) => checkHours(`week[${i}]`, r, out))
  if (!d.week.some((r) => r.working)) out.week = { key: 'calendars.errors.noWorkingDay' }
  d.dates.forEach((r, i) => checkHours(`dates[${i}].hours`, r, out))
  return out
}

function hours(r: DayRow) {
  return r.working ? { startMinute: parseClock(r.start) ?? 0, endMinute: parseClock(r.end) ?? 0 } : { startMinute: 0, endMinute: 0 }
}

export function calendarRequest(d: CalendarDraft): Calendar {
  return {
    name: d.name.trim(),
    timeZone: d.timeZone.trim(),
    week: d.week.map(hours),
    dates: d.dates.map((r) => ({ date: r.date, hours: hours(r), note: r.note.trim() })),
    groupIds: [...d.groupIds],
  }
}
