import { describe, expect, it } from 'vitest'
import type { Calendar } from '@/api/client'
import { addDate, calendarRequest, draftOfCalendar, validateCalendar } from './calendarDraft'

const day = (s: number, e: number) => ({ startMinute: s, endMinute: e })
const PRODUCTION: Calendar = {
  id: '1',
  name: 'Производственный',
  timeZone: 'Europe/Moscow',
  week: [day(540, 1080), day(540, 1080), day(540, 1080), day(540, 1080), day(540, 1080), day(0, 0), day(0, 0)],
  dates: [
    { date: '2026-06-11', hours: day(540, 1020), note: 'shortened' },
    { date: '2026-06-12', hours: day(0, 0), note: 'Russia Day' },
  ],
  groupIds: ['3'],
}

describe('a calendar in its editor', () => {
  it('reads a calendar and sends it back unchanged', () => {
    const d = draftOfCalendar(PRODUCTION)
    expect(d.week.map((r) => (r.working ? `${r.start}-${r.end}` : 'off'))).toEqual([
      '09:00-18:00',
      '09:00-18:00',
      '09:00-18:00',
      '09:00-18:00',
      '09:00-18:00',
      'off',
      'off',
    ])
    expect(d.dates.map((r) => [r.date, r.working, r.end])).toEqual([
      ['2026-06-11', true, '17:00'],
      ['2026-06-12', false, '18:00'],
    ])
    const { id: _id, ...body } = PRODUCTION
    expect(calendarRequest(d)).toEqual(body)
  })

  it('adds a date once, in order, as a day off', () => {
    const d = draftOfCalendar(PRODUCTION)
    expect(addDate(d, '2026-05-11')).toBe(true)
    expect(addDate(d, '2026-05-11')).toBe(false)
    expect(addDate(d, '')).toBe(false)
    expect(d.dates.map((r) => r.date)).toEqual(['2026-05-11', '2026-06-11', '2026-06-12'])
    expect(d.dates[0]!.working).toBe(false)
  })

  it('refuses hours ending before they start, and a week with no working day', () => {
    const d = draftOfCalendar()
    expect(validateCalendar(d)).toEqual({ name: { key: 'validation.required' } })
    d.name = 'Support'
    d.week[0]!.end = '08:00'
    d.week.slice(1).forEach((r) => (r.working = false))
    expect(validateCalendar(d)).toEqual({ 'week[0].endMinute': { key: 'groups.schedule.errors.endBeforeStart' } })
    d.week[0]!.working = false
    expect(validateCalendar(d)).toEqual({ week: { key: 'calendars.errors.noWorkingDay' } })
  })
})
