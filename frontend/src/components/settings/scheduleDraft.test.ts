import { describe, expect, it } from 'vitest'
import type { Schedule } from '@/api/client'
import { addDayOff, draftOfSchedule, scheduleProblems, scheduleRequest, validateSchedule } from './scheduleDraft'

const SCHEDULE: Schedule = {
  groupId: '3',
  timeZone: 'Europe/Moscow',
  hours: { startMinute: 540, endMinute: 1080, weekdays: [5, 1, 2, 3, 4] },
  capacityPerDay: 4,
  technicians: [
    {
      userId: '21',
      name: 'Olga Fitter',
      hours: { startMinute: 720, endMinute: 1200, weekdays: [1, 2, 3, 4, 5, 6] },
      capacityPerDay: 2,
      daysOff: ['2026-05-13'],
    },
    { userId: '40', name: 'Gone Person', daysOff: ['2026-05-20'] },
  ],
  version: 3,
}
const MEMBERS = [
  { id: '22', login: 'pavel', displayName: 'Pavel Fitter' },
  { id: '21', login: 'olga', displayName: 'Olga Fitter' },
]

describe('the working-time editor’s draft', () => {
  it('gives each member a row with their own hours, limit and days off, or the group’s', () => {
    const d = draftOfSchedule(SCHEDULE, MEMBERS)
    expect(d.timeZone).toBe('Europe/Moscow')
    expect(d.hours).toEqual({ start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] })
    expect(d.capacity).toBe(4)
    expect(d.technicians.map((r) => [r.userId, r.member, r.ownHours, r.hours.start, r.capacity, r.daysOff])).toEqual([
      ['21', true, true, '12:00', 2, ['2026-05-13']],
      ['22', true, false, '09:00', null, []],
      ['40', false, false, '09:00', null, ['2026-05-20']],
    ])
  })

  it('sends the group’s time and only the technicians with something of their own', () => {
    const d = draftOfSchedule(SCHEDULE, MEMBERS)
    d.technicians[1]!.capacity = 3
    d.technicians[0]!.ownHours = false
    const { body, userIds } = scheduleRequest(d)
    expect(userIds).toEqual(['21', '22', '40'])
    expect(body).toEqual({
      timeZone: 'Europe/Moscow',
      hours: { startMinute: 540, endMinute: 1080, weekdays: [1, 2, 3, 4, 5] },
      capacityPerDay: 4,
      technicians: [
        { userId: '21', hours: undefined, capacityPerDay: 2, daysOff: ['2026-05-13'] },
        { userId: '22', hours: undefined, capacityPerDay: 3, daysOff: [] },
        { userId: '40', hours: undefined, capacityPerDay: 0, daysOff: ['2026-05-20'] },
      ],
    })
    d.technicians[2]!.daysOff = []
    expect(scheduleRequest(d).userIds).toEqual(['21', '22'])
  })

  it('checks hours that end after they start, a working day, the limit and the zone', () => {
    const d = draftOfSchedule(SCHEDULE, MEMBERS)
    expect(validateSchedule(d)).toEqual({})
    d.hours = { start: '18:00', end: '09:00', weekdays: [] }
    d.capacity = 51
    d.timeZone = 'Mars/Olympus'
    d.technicians[0]!.hours.end = ''
    expect(validateSchedule(d)).toEqual({
      timeZone: { key: 'groups.schedule.errors.timeZone' },
      'hours.endMinute': { key: 'groups.schedule.errors.endBeforeStart' },
      'hours.weekdays': { key: 'groups.schedule.errors.noWeekdays' },
      capacityPerDay: { key: 'groups.schedule.errors.capacity', params: { max: 50 } },
      'technicians.21.hours.endMinute': { key: 'validation.required' },
    })
    // Hours not their own are not checked.
    d.technicians[0]!.ownHours = false
    expect(validateSchedule(d)['technicians.21.hours.endMinute']).toBeUndefined()
  })

  it('puts the server’s problems on the technician they name, by the order they were sent in', () => {
    expect(
      scheduleProblems(
        {
          'technicians[1].hours.weekdays': { text: 'name at least one working day' },
          'technicians[0].daysOff[2]': { text: 'not a date' },
          timeZone: { text: 'no' },
        },
        ['21', '40'],
      ),
    ).toEqual({
      'technicians.40.hours.weekdays': { text: 'name at least one working day' },
      'technicians.21.daysOff': { text: 'not a date' },
      timeZone: { text: 'no' },
    })
  })

  it('adds a day off once and keeps them in order', () => {
    const r = draftOfSchedule(SCHEDULE, MEMBERS).technicians[0]!
    expect(addDayOff(r, '2026-05-01')).toBe(true)
    expect(addDayOff(r, '2026-05-13')).toBe(false)
    expect(addDayOff(r, '')).toBe(false)
    expect(r.daysOff).toEqual(['2026-05-01', '2026-05-13'])
  })
})
