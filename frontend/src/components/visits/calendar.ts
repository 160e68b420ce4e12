// The dispatcher's calendar of a group's visits, as data: a row per
// technician, the reader's hours as columns (a day, or the seven days of a
// week side by side), each visit a block placed by its window, the hours
// each technician works shaded, and what a drop on a slot would book —
// with the conflict it would meet, said before the drop.
//
// Positions are percentages of one day's span of hours, so the same
// numbers serve a wide day and a narrow day of a week.

import type { Schedule, Task, Visit, VisitState } from '@/api/client'
import { daysOffIntervals, outside, workingIntervals, type OutsideReason } from './workingTime'
import { addDays, clip, localDate, localDayStart, localInstant, overlaps, wallMinutes, weekStart, type Interval } from './zone'

export type CalendarView = 'day' | 'week'

/** A row of the calendar. */
export interface CalendarTechnician {
  id: string
  name: string
  /** Still a member of the group (a visit may name someone who left it). */
  member: boolean
}

/**
 * The calendar's rows: the group's members by name, then anyone a shown
 * visit names who is no longer one of them.
 */
export function calendarTechnicians(members: { id?: string; displayName?: string; login?: string }[], visits: Visit[]): CalendarTechnician[] {
  const rows: CalendarTechnician[] = members
    .filter((m) => m.id)
    .map((m) => ({ id: m.id ?? '', name: m.displayName || m.login || `#${m.id}`, member: true }))
    .sort((a, b) => a.name.localeCompare(b.name))
  const known = new Set(rows.map((r) => r.id))
  for (const v of visits)
    for (const tech of v.technicians ?? []) {
      if (!tech.userId || known.has(tech.userId)) continue
      known.add(tech.userId)
      rows.push({ id: tech.userId, name: tech.name || `#${tech.userId}`, member: false })
    }
  return rows
}

/** Minutes of the reader's day the calendar shows: [start, end). */
export interface Span {
  start: number
  end: number
}

/** What the calendar shows when nobody's working time says otherwise. */
export const DEFAULT_SPAN: Readonly<Span> = Object.freeze({ start: 8 * 60, end: 20 * 60 })

/** A new booking's window when it is dropped or asked for without one. */
export const DEFAULT_WINDOW_MINUTES = 120

/** States in which a visit holds its technicians' time. */
const ACTIVE: VisitState[] = ['VISIT_STATE_BOOKED', 'VISIT_STATE_ON_THE_WAY', 'VISIT_STATE_ARRIVED']

export function isActive(v: Visit): boolean {
  return ACTIVE.includes(v.state ?? 'VISIT_STATE_UNSPECIFIED')
}

/** A visit may be moved until the technician is on site. */
export function isMovable(v: Visit): boolean {
  return v.state === 'VISIT_STATE_BOOKED' || v.state === 'VISIT_STATE_ON_THE_WAY'
}

export function windowOf(v: Visit): Interval {
  return { start: Date.parse(v.startTime ?? '') || 0, end: Date.parse(v.endTime ?? '') || 0 }
}

export function technicianIds(v: Visit): string[] {
  return (v.technicians ?? []).map((t) => t.userId ?? '').filter(Boolean)
}

/** The days shown: the day itself, or Monday to Sunday of its week. */
export function calendarDays(view: CalendarView, anchor: string): string[] {
  if (view === 'day') return [anchor]
  const monday = weekStart(anchor)
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i))
}

/** The instants the shown days cover: [first midnight, midnight after the last). */
export function daysInterval(days: string[]): Interval {
  const first = days[0] ?? localDate(Date.now())
  const last = days[days.length - 1] ?? first
  return { start: localDayStart(first), end: localDayStart(addDays(last, 1)) }
}

/**
 * The hours to show: from an hour before the earliest of the intervals
 * (working time, visits) on any shown day to an hour after the latest,
 * in whole hours; the default span when there are none.
 */
export function hourSpan(days: string[], intervals: Interval[], fallback: Span = DEFAULT_SPAN): Span {
  let lo = Infinity
  let hi = -Infinity
  for (const day of days) {
    for (const iv of intervals) {
      const a = wallMinutes(iv.start, day)
      const b = wallMinutes(iv.end, day)
      if (b <= a) continue
      lo = Math.min(lo, a)
      hi = Math.max(hi, b)
    }
  }
  if (!Number.isFinite(lo)) return { ...fallback }
  return { start: Math.max(0, Math.floor(lo / 60) * 60 - 60), end: Math.min(1440, Math.ceil(hi / 60) * 60 + 60) }
}

/** The whole hours of a span, for the column heads. */
export function spanHours(span: Span): number[] {
  const out: number[] = []
  for (let m = span.start; m < span.end; m += 60) out.push(m)
  return out
}

export interface Box {
  /** Percent of the day's span from its start. */
  left: number
  /** Percent of the day's span. */
  width: number
}

/** Where an interval sits on one day of the calendar; null when it does not show there. */
export function boxOn(iv: Interval, day: string, span: Span): Box | null {
  const a = Math.max(wallMinutes(iv.start, day), span.start)
  const b = Math.min(wallMinutes(iv.end, day), span.end)
  if (b <= a) return null
  const total = span.end - span.start
  return { left: ((a - span.start) / total) * 100, width: ((b - a) / total) * 100 }
}

export interface Block extends Box {
  key: string
  visit: Visit
  day: string
  /** Its place among the blocks that overlap it in the row: 0 on top. */
  lane: number
  /** The window starts before the day's shown span, or ends after it. */
  cutStart: boolean
  cutEnd: boolean
}

export interface Row {
  technicianId: string
  /** How many blocks stand on top of each other at most (1 when none overlap). */
  lanes: number
  blocks: Block[]
}

/**
 * A row per technician with their visits' blocks on each day. Blocks that
 * overlap (a visit done beside the next one, a cancelled one shown) take
 * lanes, so none hides another.
 */
export function layoutRows(visits: Visit[], technicians: string[], days: string[], span: Span): Row[] {
  return technicians.map((tech) => {
    const mine = visits.filter((v) => technicianIds(v).includes(tech)).sort((a, b) => windowOf(a).start - windowOf(b).start)
    const blocks: Block[] = []
    let lanes = 1
    for (const day of days) {
      const laneEnds: number[] = []
      for (const v of mine) {
        const w = windowOf(v)
        const box = boxOn(w, day, span)
        if (!box) continue
        let lane = laneEnds.findIndex((end) => end <= w.start)
        if (lane < 0) lane = laneEnds.length
        laneEnds[lane] = w.end
        lanes = Math.max(lanes, lane + 1)
        const start = localInstant(day, span.start)
        const end = localInstant(day, span.end)
        blocks.push({ ...box, key: `${v.id}-${tech}-${day}`, visit: v, day, lane, cutStart: w.start < start, cutEnd: w.end > end })
      }
    }
    return { technicianId: tech, lanes, blocks }
  })
}

export interface Band extends Box {
  kind: 'work' | 'off'
}

/** The technician's working hours (and whole days off) on one day, for shading. */
export function workBands(schedule: Schedule, technicianId: string, day: string, span: Span): Band[] {
  const from = localDayStart(day)
  const to = localDayStart(addDays(day, 1))
  const out: Band[] = []
  for (const iv of daysOffIntervals(schedule, technicianId, from, to)) {
    const box = boxOn(iv, day, span)
    if (box) out.push({ ...box, kind: 'off' })
  }
  for (const iv of workingIntervals(schedule, technicianId, from, to)) {
    const box = boxOn(iv, day, span)
    if (box) out.push({ ...box, kind: 'work' })
  }
  return out
}

/** Whether the technician has a day off on the reader's day (any part of it). */
export function isDayOff(schedule: Schedule, technicianId: string, day: string): boolean {
  return daysOffIntervals(schedule, technicianId, localDayStart(day), localDayStart(addDays(day, 1))).length > 0
}

/** The slots of a day a drop lands on: every step minutes of the span. */
export function slotsOf(day: string, span: Span, step: number): { minute: number; start: number }[] {
  const out: { minute: number; start: number }[] = []
  for (let m = span.start; m < span.end; m += step) out.push({ minute: m, start: localInstant(day, m) })
  return out
}

/** What is being dragged: a task waiting for a visit, or a booked visit (from one technician's row). */
export type DragSource = { kind: 'task'; task: Task } | { kind: 'visit'; visit: Visit; technicianId: string }

/** Where it is dropped: a technician's row at a time. */
export interface Slot {
  technicianId: string
  start: number
}

/** The booking a drop asks for, to be confirmed in the booking dialog. */
export interface Drop {
  taskId: string
  processId: string
  start: number
  end: number
  technicianIds: string[]
  address: string
  note: string
  rebook: boolean
}

/**
 * What dropping source on slot books: a task gets the slot's technician
 * and a window of the default length from the slot; a visit keeps its
 * length, address and note, and moves from the row it was dragged from to
 * the slot's technician (its other technicians stay).
 */
export function dropOf(source: DragSource, slot: Slot): Drop {
  if (source.kind === 'task') {
    return {
      taskId: source.task.id ?? '',
      processId: source.task.currentProcess?.id ?? '',
      start: slot.start,
      end: slot.start + DEFAULT_WINDOW_MINUTES * 60_000,
      technicianIds: [slot.technicianId],
      address: '',
      note: '',
      rebook: false,
    }
  }
  const v = source.visit
  const w = windowOf(v)
  const techs = technicianIds(v).map((id) => (id === source.technicianId ? slot.technicianId : id))
  return {
    taskId: v.taskId ?? '',
    processId: v.processId ?? '',
    start: slot.start,
    end: slot.start + (w.end - w.start),
    technicianIds: [...new Set(techs)],
    address: v.address ?? '',
    note: v.note ?? '',
    rebook: true,
  }
}

/** What stands in a booking's way, as far as the calendar can tell. */
export type Conflict =
  { kind: 'past' } | { kind: 'overlap'; technicianId: string; visit: Visit } | { kind: 'outside'; technicianId: string; reason: OutsideReason }

/**
 * The first conflict a booking of these technicians for [start, end) would
 * meet: a window already begun, another visit of one of them that overlaps
 * (the task's own visit aside: a rebook moves it), or a technician's time
 * off. The server decides; this only says it before the drop.
 */
export function conflictOf(
  drop: Pick<Drop, 'taskId' | 'start' | 'end' | 'technicianIds'>,
  visits: Visit[],
  schedule: Schedule | null,
  now: number,
): Conflict | null {
  if (drop.start < now) return { kind: 'past' }
  const win = { start: drop.start, end: drop.end }
  for (const tech of drop.technicianIds) {
    const other = visits.find((v) => isActive(v) && v.taskId !== drop.taskId && technicianIds(v).includes(tech) && overlaps(win, windowOf(v)))
    if (other) return { kind: 'overlap', technicianId: tech, visit: other }
  }
  if (schedule) {
    for (const tech of drop.technicianIds) {
      const reason = outside(schedule, tech, drop.start, drop.end)
      if (reason) return { kind: 'outside', technicianId: tech, reason }
    }
  }
  return null
}

/** A day's visits in the order of their windows (the phone's list). */
export function visitsOfDay(visits: Visit[], day: string): Visit[] {
  const d = { start: localDayStart(day), end: localDayStart(addDays(day, 1)) }
  return visits
    .filter((v) => clip(windowOf(v), d) !== null)
    .sort((a, b) => windowOf(a).start - windowOf(b).start || (a.taskNumber ?? '').localeCompare(b.taskNumber ?? ''))
}

/**
 * Where a new booking on day starts when none was pointed at: the group's
 * start of work that day, or the next whole hour when that has passed.
 */
export function suggestedStart(day: string, schedule: Schedule | null, now: number): number {
  const from = localDayStart(day)
  const to = localDayStart(addDays(day, 1))
  const work = schedule ? workingIntervals({ ...schedule, technicians: [] }, '', from, to)[0] : undefined
  let start = work?.start ?? localInstant(day, 9 * 60)
  if (start < now) {
    const next = new Date(now)
    next.setMinutes(0, 0, 0)
    start = next.getTime() + 3_600_000
  }
  return start
}
