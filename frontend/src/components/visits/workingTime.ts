// A group's working time as the booking rules read it (docs/visits.md,
// "Working time"): a technician works their own hours where they have
// them, else the group's, on the listed weekdays, except their days off,
// all in the schedule's time zone. A window lies within one working day.
// The task service checks the same when a visit is booked; the calendar
// uses this to shade the hours worked and to warn before a drop.

import type { Schedule } from '@/api/client'
import { addDays, clip, isoWeekday, zonedDate, zonedDates, zonedInstant, type Interval } from './zone'

export interface Hours {
  start: number
  end: number
  weekdays: number[]
}

export interface TechnicianTime {
  hours: Hours
  /** Visits a day; 0: no limit. */
  capacity: number
  daysOff: string[]
}

/** The group's default when it has no schedule: Monday to Friday, 9:00 to 18:00. */
export const DEFAULT_HOURS: Readonly<Hours> = Object.freeze({ start: 9 * 60, end: 18 * 60, weekdays: [1, 2, 3, 4, 5] })

/** Why a window is outside a technician's working time. */
export type OutsideReason = 'dayOff' | 'notWorkingDay' | 'hours'

function hoursOf(h: Schedule['hours'] | undefined): Hours | null {
  if (!h) return null
  return { start: h.startMinute ?? 0, end: h.endMinute ?? 0, weekdays: [...(h.weekdays ?? [])] }
}

/** A technician's own working time: the group's where they have none. */
export function technicianTime(s: Schedule, userId: string): TechnicianTime {
  const own = (s.technicians ?? []).find((t) => t.userId === userId)
  return {
    hours: hoursOf(own?.hours) ?? hoursOf(s.hours) ?? { ...DEFAULT_HOURS, weekdays: [...DEFAULT_HOURS.weekdays] },
    capacity: own?.capacityPerDay || s.capacityPerDay || 0,
    daysOff: own?.daysOff ?? [],
  }
}

/** Why [start, end) is outside the technician's working time; null when it is inside. */
export function outside(s: Schedule, userId: string, start: number, end: number): OutsideReason | null {
  const tz = s.timeZone || undefined
  const { hours, daysOff } = technicianTime(s, userId)
  const day = zonedDate(start, tz)
  if (daysOff.includes(day)) return 'dayOff'
  if (!hours.weekdays.includes(isoWeekday(day))) return 'notWorkingDay'
  if (start < zonedInstant(day, hours.start, tz) || end > zonedInstant(day, hours.end, tz)) return 'hours'
  return null
}

/** When the technician works within [from, to): one interval per working day. */
export function workingIntervals(s: Schedule, userId: string, from: number, to: number): Interval[] {
  const tz = s.timeZone || undefined
  const { hours, daysOff } = technicianTime(s, userId)
  const out: Interval[] = []
  for (const day of zonedDates(from, to, tz)) {
    if (daysOff.includes(day) || !hours.weekdays.includes(isoWeekday(day))) continue
    const got = clip({ start: zonedInstant(day, hours.start, tz), end: zonedInstant(day, hours.end, tz) }, { start: from, end: to })
    if (got) out.push(got)
  }
  return out
}

/** The technician's days off that meet [from, to), each as its whole day. */
export function daysOffIntervals(s: Schedule, userId: string, from: number, to: number): Interval[] {
  const tz = s.timeZone || undefined
  const { daysOff } = technicianTime(s, userId)
  const out: Interval[] = []
  for (const day of zonedDates(from, to, tz)) {
    if (!daysOff.includes(day)) continue
    const got = clip({ start: zonedInstant(day, 0, tz), end: zonedInstant(addDays(day, 1), 0, tz) }, { start: from, end: to })
    if (got) out.push(got)
  }
  return out
}
