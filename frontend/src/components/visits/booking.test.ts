import { describe, expect, it } from 'vitest'
import { toApiError } from '@/api/errors'
import { bookingRefusal, bookingRequest, draftOf, draftOfVisit, validateBooking } from './booking'
import { localInstant } from './zone'

const at = (day: string, h: number, m = 0) => localInstant(day, h * 60 + m)
const TUE = '2026-05-12'

function status(http: number, code: number, message: string, reason = '', metadata: Record<string, string> = {}, fields: Record<string, string> = {}) {
  const details: unknown[] = []
  if (Object.keys(fields).length)
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: Object.entries(fields).map(([field, description]) => ({ field, description })),
    })
  if (reason) details.push({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, metadata })
  return toApiError(http, { code, message, details })
}

describe('the booking dialog’s draft', () => {
  it('reads a window as a day and two times on the reader’s clock, and sends it back as instants', () => {
    const d = draftOf(at(TUE, 10), at(TUE, 12, 30), { technicianIds: ['21'], address: ' Arbat 10 ', note: '' })
    expect(d).toEqual({ date: TUE, start: '10:00', end: '12:30', technicianIds: ['21'], address: ' Arbat 10 ', note: '' })
    expect(bookingRequest(d, '13')).toEqual({
      startTime: new Date(at(TUE, 10)).toISOString(),
      endTime: new Date(at(TUE, 12, 30)).toISOString(),
      technicianIds: ['21'],
      address: 'Arbat 10',
      note: '',
      override: false,
      processId: '13',
    })
    expect(bookingRequest(d, '13', true).override).toBe(true)
  })

  it('ends a window that runs to midnight at 24:00 of its day', () => {
    const d = draftOf(at(TUE, 20), at('2026-05-13', 0))
    expect(d.end).toBe('24:00')
    expect(bookingRequest({ ...d, technicianIds: ['1'] }, '13').endTime).toBe(new Date(at('2026-05-13', 0)).toISOString())
  })

  it('starts a rebooking from the visit as it is', () => {
    const d = draftOfVisit({
      startTime: new Date(at(TUE, 9)).toISOString(),
      endTime: new Date(at(TUE, 11)).toISOString(),
      technicians: [{ userId: '21', name: 'Olga' }, { userId: '22' }],
      address: 'Arbat 10',
      note: 'call first',
    })
    expect(d).toEqual({ date: TUE, start: '09:00', end: '11:00', technicianIds: ['21', '22'], address: 'Arbat 10', note: 'call first' })
  })

  it('checks the window, the technicians and the lengths before sending', () => {
    const now = at(TUE, 8)
    const ok = draftOf(at(TUE, 10), at(TUE, 12), { technicianIds: ['21'] })
    expect(validateBooking(ok, now)).toEqual({})
    expect(validateBooking({ ...ok, end: '09:00' }, now)).toEqual({ endTime: { key: 'visits.errors.endBeforeStart' } })
    expect(validateBooking({ ...ok, start: '07:00', end: '20:00' }, now)).toEqual({
      endTime: { key: 'visits.errors.tooLong', params: { hours: 12 } },
      startTime: { key: 'visits.errors.past' },
    })
    expect(validateBooking({ ...ok, date: '', start: '', technicianIds: [] }, now)).toEqual({
      date: { key: 'validation.required' },
      startTime: { key: 'validation.required' },
      technicianIds: { key: 'visits.errors.noTechnician' },
    })
    expect(validateBooking({ ...ok, note: 'x'.repeat(1001) }, now)).toEqual({ note: { key: 'validation.tooLong', params: { max: 1000 } } })
  })
})

describe('a refused booking', () => {
  it('names the task whose visit clashes', () => {
    const e = status(409, 6, 'technician 21 is already booked 2026-05-12 07:00–09:00 UTC for T-000031', 'VISIT_CLASH', {
      technicianId: '21',
      taskNumber: 'T-000031',
    })
    expect(bookingRefusal(e)).toEqual({ kind: 'clash', taskNumber: 'T-000031', message: e.message })
  })

  it('tells working time and a full day apart, for a supervisor to book anyway', () => {
    expect(bookingRefusal(status(400, 3, 'Olga is outside working time', 'OUTSIDE_WORKING_TIME'))).toMatchObject({ kind: 'workingTime' })
    expect(bookingRefusal(status(400, 3, 'Olga already has 4 visits', 'OVER_CAPACITY'))).toMatchObject({ kind: 'capacity' })
  })

  it('sends the task to be read again when it moved on or no longer waits for a visit', () => {
    expect(bookingRefusal(status(409, 10, 'moved on', 'TASK_MOVED'))).toMatchObject({ kind: 'moved' })
    expect(bookingRefusal(status(400, 9, 'does not wait for a visit', 'VISIT_REFUSED'))).toMatchObject({ kind: 'refused' })
    expect(bookingRefusal(status(403, 7, 'only supervisors may book outside working time'))).toMatchObject({ kind: 'forbidden' })
  })

  it('puts the server’s field problems on the form’s fields', () => {
    const e = status(400, 3, 'user 9 is not an active member', '', {}, { 'technicianIds[1]': 'user 9 is not an active member', startTime: 'in the past' })
    expect(bookingRefusal(e)).toEqual({
      kind: 'fields',
      problems: { technicianIds: { text: 'user 9 is not an active member' }, startTime: { text: 'in the past' } },
    })
    expect(bookingRefusal(status(503, 14, 'unavailable'))).toEqual({ kind: 'other' })
  })
})
