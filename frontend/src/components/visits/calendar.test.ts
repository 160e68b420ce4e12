import { describe, expect, it } from 'vitest'
import type { Schedule, Task, Visit } from '@/api/client'
import { boxOn, calendarDays, conflictOf, dropOf, hourSpan, layoutRows, slotsOf, suggestedStart, visitsOfDay, workBands, type Span } from './calendar'
import { localInstant } from './zone'

// Everything here is on the reader's clock, whatever zone the tests run in.
const at = (day: string, h: number, m = 0) => localInstant(day, h * 60 + m)
const iso = (day: string, h: number, m = 0) => new Date(at(day, h, m)).toISOString()
const LOCAL = Intl.DateTimeFormat().resolvedOptions().timeZone

const TUE = '2026-05-12'
const WED = '2026-05-13'
const SPAN: Span = { start: 8 * 60, end: 20 * 60 }

function visit(id: string, day: string, from: number, to: number, techs: string[], extra: Partial<Visit> = {}): Visit {
  return {
    id,
    taskId: `t${id}`,
    taskNumber: `T-00000${id}`,
    processId: '13',
    groupId: '3',
    state: 'VISIT_STATE_BOOKED',
    startTime: iso(day, from),
    endTime: iso(day, to),
    technicians: techs.map((t) => ({ userId: t, name: `Tech ${t}` })),
    ...extra,
  }
}

const SCHEDULE: Schedule = {
  timeZone: LOCAL,
  hours: { startMinute: 540, endMinute: 1080, weekdays: [1, 2, 3, 4, 5] },
  technicians: [{ userId: '22', daysOff: [WED] }],
}

describe('the calendar’s layout', () => {
  it('shows a day, or Monday to Sunday of its week', () => {
    expect(calendarDays('day', TUE)).toEqual([TUE])
    expect(calendarDays('week', TUE)).toEqual(['2026-05-11', TUE, WED, '2026-05-14', '2026-05-15', '2026-05-16', '2026-05-17'])
  })

  it('places a window by its times as a share of the day’s hours, cut to what is shown', () => {
    expect(boxOn({ start: at(TUE, 10), end: at(TUE, 12) }, TUE, SPAN)).toEqual({ left: (2 / 12) * 100, width: (2 / 12) * 100 })
    expect(boxOn({ start: at(TUE, 7), end: at(TUE, 9) }, TUE, SPAN)).toEqual({ left: 0, width: (1 / 12) * 100 })
    expect(boxOn({ start: at(TUE, 19), end: at(WED, 9) }, WED, SPAN)).toEqual({ left: 0, width: (1 / 12) * 100 })
    expect(boxOn({ start: at(TUE, 10), end: at(TUE, 12) }, WED, SPAN)).toBeNull()
    expect(boxOn({ start: at(TUE, 6), end: at(TUE, 7) }, TUE, SPAN)).toBeNull()
  })

  it('gives each technician a row with their visits, and overlapping blocks lanes of their own', () => {
    const visits = [
      visit('1', TUE, 10, 12, ['21', '22']),
      visit('2', TUE, 11, 13, ['21'], { state: 'VISIT_STATE_DONE' }),
      visit('3', TUE, 13, 14, ['21']),
      visit('4', WED, 9, 10, ['22']),
    ]
    const rows = layoutRows(visits, ['21', '22', '23'], calendarDays('week', TUE), SPAN)
    expect(rows.map((r) => [r.technicianId, r.lanes, r.blocks.map((b) => [b.visit.id, b.day, b.lane])])).toEqual([
      [
        '21',
        2,
        [
          ['1', TUE, 0],
          ['2', TUE, 1],
          ['3', TUE, 0],
        ],
      ],
      [
        '22',
        1,
        [
          ['1', TUE, 0],
          ['4', WED, 0],
        ],
      ],
      ['23', 1, []],
    ])
    expect(rows[0]!.blocks[2]).toMatchObject({ left: (5 / 12) * 100, width: (1 / 12) * 100, cutStart: false, cutEnd: false })
  })

  it('marks a block whose window runs past the hours shown', () => {
    const [row] = layoutRows([visit('1', TUE, 18, 22, ['21'])], ['21'], [TUE], SPAN)
    expect(row!.blocks[0]).toMatchObject({ left: (10 / 12) * 100, width: (2 / 12) * 100, cutStart: false, cutEnd: true })
  })

  it('shows the hours worked with an hour either side, widened for a visit outside them', () => {
    const work = [{ start: at(TUE, 9), end: at(TUE, 18) }]
    expect(hourSpan([TUE], work)).toEqual({ start: 8 * 60, end: 19 * 60 })
    expect(hourSpan([TUE], [...work, { start: at(TUE, 20, 30), end: at(TUE, 21) }])).toEqual({ start: 8 * 60, end: 22 * 60 })
    expect(hourSpan([TUE], [])).toEqual(SPAN)
    expect(hourSpan([TUE], [{ start: at(TUE, 0, 30), end: at(TUE, 23, 30) }])).toEqual({ start: 0, end: 1440 })
  })

  it('shades the working hours of each technician, and a day off as a whole', () => {
    expect(workBands(SCHEDULE, '21', TUE, SPAN)).toEqual([{ kind: 'work', left: (1 / 12) * 100, width: (9 / 12) * 100 }])
    expect(workBands(SCHEDULE, '22', WED, SPAN)).toEqual([{ kind: 'off', left: 0, width: 100 }])
    // Saturday: not a working day, nothing shaded.
    expect(workBands(SCHEDULE, '21', '2026-05-16', SPAN)).toEqual([])
  })

  it('cuts a day into the slots a drop lands on', () => {
    const slots = slotsOf(TUE, { start: 540, end: 660 }, 30)
    expect(slots.map((s) => s.minute)).toEqual([540, 570, 600, 630])
    expect(slots[1]!.start).toBe(at(TUE, 9, 30))
  })

  it('lists a day’s visits in the order of their windows', () => {
    const visits = [visit('2', TUE, 14, 15, ['21']), visit('1', TUE, 9, 10, ['22']), visit('3', WED, 8, 9, ['21'])]
    expect(visitsOfDay(visits, TUE).map((v) => v.id)).toEqual(['1', '2'])
  })
})

describe('a drop on the calendar', () => {
  const task: Task = { id: '40', number: 'T-000040', state: 'TASK_STATE_OPEN', currentProcess: { id: '13', groupId: '3', visit: true } }

  it('books a waiting task for the slot’s technician, two hours from the slot', () => {
    expect(dropOf({ kind: 'task', task }, { technicianId: '21', start: at(TUE, 10) })).toEqual({
      taskId: '40',
      processId: '13',
      start: at(TUE, 10),
      end: at(TUE, 12),
      technicianIds: ['21'],
      address: '',
      note: '',
      rebook: false,
    })
  })

  it('moves a visit keeping its length, address and note, from the row it left to the slot’s technician', () => {
    const v = visit('1', TUE, 10, 13, ['21', '22'], { address: 'Arbat 10', note: 'call first' })
    expect(dropOf({ kind: 'visit', visit: v, technicianId: '21' }, { technicianId: '23', start: at(WED, 9) })).toEqual({
      taskId: 't1',
      processId: '13',
      start: at(WED, 9),
      end: at(WED, 12),
      technicianIds: ['23', '22'],
      address: 'Arbat 10',
      note: 'call first',
      rebook: true,
    })
    // Onto the row of its other technician: that one, once.
    expect(dropOf({ kind: 'visit', visit: v, technicianId: '21' }, { technicianId: '22', start: at(WED, 9) }).technicianIds).toEqual(['22'])
  })

  it('says before the drop what stands in the way: the past, another visit, time off', () => {
    const now = at(TUE, 8)
    const visits = [visit('1', TUE, 10, 12, ['21']), visit('2', TUE, 14, 16, ['21'], { state: 'VISIT_STATE_CANCELLED' })]
    const drop = (start: number, end: number, techs: string[], taskId = '40') => ({ taskId, start, end, technicianIds: techs })
    expect(conflictOf(drop(at(TUE, 7), at(TUE, 9), ['21']), visits, SCHEDULE, now)).toEqual({ kind: 'past' })
    expect(conflictOf(drop(at(TUE, 11), at(TUE, 13), ['21']), visits, SCHEDULE, now)).toMatchObject({ kind: 'overlap', technicianId: '21', visit: { id: '1' } })
    // Back to back is no overlap; a cancelled visit holds nobody.
    expect(conflictOf(drop(at(TUE, 12), at(TUE, 14), ['21']), visits, SCHEDULE, now)).toBeNull()
    expect(conflictOf(drop(at(TUE, 14), at(TUE, 16), ['21']), visits, SCHEDULE, now)).toBeNull()
    // Moving the task's own visit does not clash with itself.
    expect(conflictOf(drop(at(TUE, 11), at(TUE, 13), ['21'], 't1'), visits, SCHEDULE, now)).toBeNull()
    expect(conflictOf(drop(at(TUE, 17), at(TUE, 19), ['21']), visits, SCHEDULE, now)).toEqual({ kind: 'outside', technicianId: '21', reason: 'hours' })
    expect(conflictOf(drop(at(WED, 10), at(WED, 12), ['21', '22']), visits, SCHEDULE, now)).toEqual({ kind: 'outside', technicianId: '22', reason: 'dayOff' })
    // Without a schedule to read, only visits and the clock are checked.
    expect(conflictOf(drop(at(TUE, 17), at(TUE, 19), ['21']), visits, null, now)).toBeNull()
  })

  it('starts a booking asked for without a slot at the start of work, or the next hour once that has passed', () => {
    expect(suggestedStart(WED, SCHEDULE, at(TUE, 15))).toBe(at(WED, 9))
    expect(suggestedStart(TUE, SCHEDULE, at(TUE, 15, 20))).toBe(at(TUE, 16))
    expect(suggestedStart(TUE, null, at(TUE, 7))).toBe(at(TUE, 9))
  })
})
