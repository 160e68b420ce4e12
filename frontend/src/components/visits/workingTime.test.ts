import { describe, expect, it } from 'vitest'
import type { Schedule } from '@/api/client'
import { daysOffIntervals, outside, technicianTime, workingIntervals } from './workingTime'

const MSK = (d: number, h: number, m = 0) => Date.UTC(2026, 4, d, h - 3, m)

/** Installers: weekdays 9–18 in Moscow, 4 visits a day; Olga works 12–20 with Saturdays, off on 13 May. */
const SCHEDULE: Schedule = {
  timeZone: 'Europe/Moscow',
  hours: { startMinute: 540, endMinute: 1080, weekdays: [1, 2, 3, 4, 5] },
  capacityPerDay: 4,
  technicians: [
    { userId: '21', hours: { startMinute: 720, endMinute: 1200, weekdays: [1, 2, 3, 4, 5, 6] }, capacityPerDay: 2, daysOff: ['2026-05-13'] },
    { userId: '22', daysOff: ['2026-05-14'] },
  ],
  version: 3,
}

describe('working time', () => {
  it('gives a technician their own hours and limit, else the group’s', () => {
    expect(technicianTime(SCHEDULE, '21')).toEqual({ hours: { start: 720, end: 1200, weekdays: [1, 2, 3, 4, 5, 6] }, capacity: 2, daysOff: ['2026-05-13'] })
    expect(technicianTime(SCHEDULE, '22')).toEqual({ hours: { start: 540, end: 1080, weekdays: [1, 2, 3, 4, 5] }, capacity: 4, daysOff: ['2026-05-14'] })
    expect(technicianTime({}, '5').hours).toEqual({ start: 540, end: 1080, weekdays: [1, 2, 3, 4, 5] })
  })

  it('says why a window is outside working time, in the schedule’s zone', () => {
    // Tuesday 12 May 2026.
    expect(outside(SCHEDULE, '22', MSK(12, 9), MSK(12, 11))).toBeNull()
    expect(outside(SCHEDULE, '22', MSK(12, 17), MSK(12, 19))).toBe('hours')
    expect(outside(SCHEDULE, '22', MSK(12, 8, 30), MSK(12, 10))).toBe('hours')
    expect(outside(SCHEDULE, '21', MSK(12, 17), MSK(12, 19))).toBeNull()
    expect(outside(SCHEDULE, '21', MSK(13, 13), MSK(13, 14))).toBe('dayOff')
    expect(outside(SCHEDULE, '22', MSK(14, 13), MSK(14, 14))).toBe('dayOff')
    // Saturday 16 May: Olga works, the group does not.
    expect(outside(SCHEDULE, '21', MSK(16, 13), MSK(16, 15))).toBeNull()
    expect(outside(SCHEDULE, '22', MSK(16, 13), MSK(16, 15))).toBe('notWorkingDay')
  })

  it('lists the hours worked over a span, one interval a working day, clipped to the span', () => {
    const from = MSK(11, 12)
    const to = MSK(14, 0)
    expect(workingIntervals(SCHEDULE, '22', from, to)).toEqual([
      { start: MSK(11, 12), end: MSK(11, 18) },
      { start: MSK(12, 9), end: MSK(12, 18) },
      { start: MSK(13, 9), end: MSK(13, 18) },
    ])
    expect(workingIntervals(SCHEDULE, '21', MSK(12, 0), MSK(17, 0)).map((i) => new Date(i.start).getUTCDate())).toEqual([12, 14, 15, 16])
  })

  it('gives a day off as the whole day in the schedule’s zone', () => {
    expect(daysOffIntervals(SCHEDULE, '21', MSK(11, 0), MSK(18, 0))).toEqual([{ start: MSK(13, 0), end: MSK(14, 0) }])
    expect(daysOffIntervals(SCHEDULE, '23', MSK(11, 0), MSK(18, 0))).toEqual([])
  })
})
