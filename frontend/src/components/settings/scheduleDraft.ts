// A group's working time as its editor holds it: the time zone, the
// group's hours and weekdays, the visits a technician takes a day, and per
// member their own hours (or the group's), their own limit (or the
// group's) and their days off; and the schedule the API takes back.
//
// A technician's problems are keyed by their user id
// ("technicians.21.hours.endMinute"): the request lists only those with
// something of their own, so its indexes are not the editor's rows.

import type { Schedule, User, WorkingHours } from '@/api/client'
import type { FieldProblems } from '@/api/problems'
import { formatClock, parseClock } from '@/components/visits/zone'

/** The most visits a day the task service takes as a limit. */
export const MAX_CAPACITY = 50

export interface HoursRow {
  /** "HH:MM" */
  start: string
  end: string
  /** 1 Monday … 7 Sunday. */
  weekdays: number[]
}

export interface TechnicianRow {
  userId: string
  name: string
  /** Still a member of the group. */
  member: boolean
  /** Works hours of their own rather than the group's. */
  ownHours: boolean
  hours: HoursRow
  /** Visits a day; null or 0: the group's. */
  capacity: number | null
  /** "YYYY-MM-DD", in the schedule's time zone. */
  daysOff: string[]
}

export interface ScheduleDraft {
  timeZone: string
  hours: HoursRow
  /** Visits a technician takes a day; null or 0: no limit. */
  capacity: number | null
  technicians: TechnicianRow[]
}

function hoursRow(h: WorkingHours | undefined, fallback?: HoursRow): HoursRow {
  if (!h) return fallback ? { ...fallback, weekdays: [...fallback.weekdays] } : { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }
  return { start: formatClock(h.startMinute ?? 0), end: formatClock(h.endMinute ?? 0), weekdays: [...(h.weekdays ?? [])].sort((a, b) => a - b) }
}

/** The editor's rows: one per member, by name, then anyone the schedule still names who has left the group. */
export function draftOfSchedule(s: Schedule, members: User[]): ScheduleDraft {
  const hours = hoursRow(s.hours)
  const own = new Map((s.technicians ?? []).map((x) => [x.userId ?? '', x]))
  const row = (userId: string, name: string, member: boolean): TechnicianRow => {
    const x = own.get(userId)
    return {
      userId,
      name,
      member,
      ownHours: !!x?.hours,
      hours: hoursRow(x?.hours, hours),
      capacity: x?.capacityPerDay || null,
      daysOff: [...(x?.daysOff ?? [])].sort(),
    }
  }
  const rows = members
    .filter((m) => m.id)
    .map((m) => row(m.id ?? '', m.displayName || m.login || `#${m.id}`, true))
    .sort((a, b) => a.name.localeCompare(b.name))
  for (const x of s.technicians ?? []) {
    const id = x.userId ?? ''
    if (id && !rows.some((r) => r.userId === id)) rows.push(row(id, x.name || `#${id}`, false))
  }
  return { timeZone: s.timeZone ?? '', hours, capacity: s.capacityPerDay || null, technicians: rows }
}

/** Whether the technician has anything of their own to keep. */
function hasOwn(r: TechnicianRow): boolean {
  return r.ownHours || (r.capacity ?? 0) > 0 || r.daysOff.length > 0
}

/** Whether the browser knows the zone (the server checks it against its own list). */
export function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

function checkHours(prefix: string, h: HoursRow, out: FieldProblems): void {
  const start = parseClock(h.start)
  const end = parseClock(h.end)
  if (start === null || start >= 1440) out[`${prefix}.startMinute`] = { key: 'validation.required' }
  if (end === null) out[`${prefix}.endMinute`] = { key: 'validation.required' }
  else if (start !== null && end <= start) out[`${prefix}.endMinute`] = { key: 'groups.schedule.errors.endBeforeStart' }
  if (h.weekdays.length === 0) out[`${prefix}.weekdays`] = { key: 'groups.schedule.errors.noWeekdays' }
}

export function validateSchedule(d: ScheduleDraft): FieldProblems {
  const out: FieldProblems = {}
  if (d.timeZone.trim() && !knownZone(d.timeZone.trim())) out.timeZone = { key: 'groups.schedule.errors.timeZone' }
  checkHours('hours', d.hours, out)
  if ((d.capacity ?? 0) < 0 || (d.capacity ?? 0) > MAX_CAPACITY) out.capacityPerDay = { key: 'groups.schedule.errors.capacity', params: { max: MAX_CAPACITY } }
  for (const r of d.technicians) {
    const prefix = `technicians.${r.userId}`
    if (r.ownHours) checkHours(`${prefix}.hours`, r.hours, out)
    if ((r.capacity ?? 0) < 0 || (r.capacity ?? 0) > MAX_CAPACITY)
      out[`${prefix}.capacityPerDay`] = { key: 'groups.schedule.errors.capacity', params: { max: MAX_CAPACITY } }
  }
  return out
}

function hoursRequest(h: HoursRow): WorkingHours {
  return { startMinute: parseClock(h.start) ?? 0, endMinute: parseClock(h.end) ?? 0, weekdays: [...h.weekdays].sort((a, b) => a - b) }
}

/** The schedule the API takes: the group's time, and the technicians with something of their own. */
export function scheduleRequest(d: ScheduleDraft): { body: Schedule; userIds: string[] } {
  const techs = d.technicians.filter(hasOwn)
  return {
    body: {
      timeZone: d.timeZone.trim(),
      hours: hoursRequest(d.hours),
      capacityPerDay: d.capacity ?? 0,
      technicians: techs.map((r) => ({
        userId: r.userId,
        hours: r.ownHours ? hoursRequest(r.hours) : undefined,
        capacityPerDay: r.capacity ?? 0,
        daysOff: [...new Set(r.daysOff)].sort(),
      })),
    },
    userIds: techs.map((r) => r.userId),
  }
}

/** The server's field paths ("technicians[1].hours.endMinute") as the editor's (by user id). */
export function scheduleProblems(fields: FieldProblems, userIds: string[]): FieldProblems {
  const out: FieldProblems = {}
  for (const [path, p] of Object.entries(fields)) {
    const m = /^(?:schedule\.)?technicians\[(\d+)\](.*)$/.exec(path)
    const id = m ? userIds[Number(m[1])] : undefined
    out[m && id ? `technicians.${id}${m[2]!.replace(/\.daysOff\[\d+\]$/, '.daysOff')}` : path.replace(/^schedule\./, '')] = p
  }
  return out
}

/** Adds a day off (once, in order). */
export function addDayOff(r: TechnicianRow, date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || r.daysOff.includes(date)) return false
  r.daysOff = [...r.daysOff, date].sort()
  return true
}
