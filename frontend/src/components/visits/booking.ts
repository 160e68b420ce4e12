// The booking dialog's data: a day, a window on the reader's clock, the
// technicians, the address and a note; the request the API takes; and
// what a refusal means for the dialog (docs/visits.md, "Booking").

import type { Visit } from '@/api/client'
import { asApiError } from '@/api/errors'
import { fieldProblems, type FieldProblems } from '@/api/problems'
import { LIMITS } from '@/api/limits.gen'
import type { BookingRequest } from '@/api/visits'
import { technicianIds, windowOf } from './calendar'
import { localClock, localDate, localInstant, parseClock, type Interval } from './zone'

/** The task a booking is for, as the screen that asks knows it. */
export interface BookingTarget {
  taskId: string
  number: string
  title?: string
  /** The process the person sees the task in. */
  processId: string
  /** The process's group: the technicians come from it. */
  groupId: string
  contractId?: string
  /** The visit it has, when this is a rebooking. */
  visit?: Visit | null
}

/** A window and people to start from (a drop on the calendar). */
export interface BookingStart {
  start: number
  end: number
  technicianIds?: string[]
  address?: string
  note?: string
}

/** The longest window the task service books. */
export const MAX_WINDOW_HOURS = 12

export interface BookingDraft {
  /** "YYYY-MM-DD", the reader's day. */
  date: string
  /** "HH:MM" on the reader's clock. */
  start: string
  end: string
  technicianIds: string[]
  address: string
  note: string
}

/** A draft for [start, end): the window on the reader's clock. */
export function draftOf(start: number, end: number, init: Partial<Omit<BookingDraft, 'date' | 'start' | 'end'>> = {}): BookingDraft {
  return {
    date: localDate(start),
    start: localClock(start),
    // A window that runs to midnight ends at 24:00 of its day.
    end: localDate(end) !== localDate(start) && localClock(end) === '00:00' ? '24:00' : localClock(end),
    technicianIds: [...(init.technicianIds ?? [])],
    address: init.address ?? '',
    note: init.note ?? '',
  }
}

/** A rebooking's draft: the visit as it is. */
export function draftOfVisit(v: Visit): BookingDraft {
  const w = windowOf(v)
  return draftOf(w.start, w.end, { technicianIds: technicianIds(v), address: v.address ?? '', note: v.note ?? '' })
}

/** The draft's window as instants; null while the day or a time is missing. */
export function draftWindow(d: BookingDraft): Interval | null {
  const start = parseClock(d.start)
  const end = parseClock(d.end)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d.date) || start === null || end === null) return null
  return { start: localInstant(d.date, start), end: localInstant(d.date, end) }
}

/** Problems keyed by the request's fields, before anything is sent. */
export function validateBooking(d: BookingDraft, now: number): FieldProblems {
  const out: FieldProblems = {}
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d.date)) out.date = { key: 'validation.required' }
  if (parseClock(d.start) === null) out.startTime = { key: 'validation.required' }
  if (parseClock(d.end) === null) out.endTime = { key: 'validation.required' }
  const w = draftWindow(d)
  if (w) {
    if (w.end <= w.start) out.endTime = { key: 'visits.errors.endBeforeStart' }
    else if (w.end - w.start > MAX_WINDOW_HOURS * 3_600_000) out.endTime = { key: 'visits.errors.tooLong', params: { hours: MAX_WINDOW_HOURS } }
    if (w.start < now) out.startTime = { key: 'visits.errors.past' }
  }
  if (d.technicianIds.length === 0) out.technicianIds = { key: 'visits.errors.noTechnician' }
  else if (d.technicianIds.length > LIMITS.BookVisitRequest.technicianIds.maxItems)
    out.technicianIds = { key: 'visits.errors.tooManyTechnicians', params: { max: LIMITS.BookVisitRequest.technicianIds.maxItems } }
  if ([...d.address.trim()].length > LIMITS.BookVisitRequest.address.maxLength)
    out.address = { key: 'validation.tooLong', params: { max: LIMITS.BookVisitRequest.address.maxLength } }
  if ([...d.note.trim()].length > LIMITS.BookVisitRequest.note.maxLength)
    out.note = { key: 'validation.tooLong', params: { max: LIMITS.BookVisitRequest.note.maxLength } }
  return out
}

/** The request for a valid draft (see validateBooking). */
export function bookingRequest(d: BookingDraft, processId: string, override = false): BookingRequest {
  const w = draftWindow(d)
  if (!w) throw new Error('the booking has no window')
  return {
    startTime: new Date(w.start).toISOString(),
    endTime: new Date(w.end).toISOString(),
    technicianIds: [...d.technicianIds],
    address: d.address.trim(),
    note: d.note.trim(),
    override,
    processId,
  }
}

/** What a refused booking means for the dialog. */
export type BookingRefusal =
  /** A technician has another visit then (409); the other task's number when the server names it. */
  | { kind: 'clash'; taskNumber: string; message: string }
  /** Outside working time or over a day's limit (400): a supervisor may book anyway. */
  | { kind: 'workingTime' | 'capacity'; message: string }
  /** The task moved on, closed, or no longer waits for a visit: read it again. */
  | { kind: 'moved' | 'refused'; message: string }
  | { kind: 'forbidden'; message: string }
  /** Fields of the form the server found wrong. */
  | { kind: 'fields'; problems: FieldProblems }
  | { kind: 'other' }

/** The form's fields a server's field path lands on ("technicianIds[1]" → technicianIds). */
const FORM_FIELDS = ['startTime', 'endTime', 'technicianIds', 'address', 'note']

export function bookingRefusal(err: unknown): BookingRefusal {
  const e = asApiError(err)
  if (e.reason === 'VISIT_CLASH') return { kind: 'clash', taskNumber: e.metadata.taskNumber ?? '', message: e.message }
  if (e.reason === 'OUTSIDE_WORKING_TIME') return { kind: 'workingTime', message: e.message }
  if (e.reason === 'OVER_CAPACITY') return { kind: 'capacity', message: e.message }
  if (e.reason === 'TASK_MOVED' || (e.status === 409 && e.code === 10)) return { kind: 'moved', message: e.message }
  if (e.reason === 'VISIT_REFUSED' || (e.status === 400 && e.code === 9)) return { kind: 'refused', message: e.message }
  if (e.forbidden) return { kind: 'forbidden', message: e.message }
  const problems: FieldProblems = {}
  for (const [field, p] of Object.entries(fieldProblems(e))) {
    const f = field.replace(/\[\d+\]$/, '')
    if (FORM_FIELDS.includes(f) && !(f in problems)) problems[f] = p
  }
  if (Object.keys(problems).length > 0) return { kind: 'fields', problems }
  return { kind: 'other' }
}
