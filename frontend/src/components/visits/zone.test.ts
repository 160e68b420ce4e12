import { describe, expect, it } from 'vitest'
import { addDays, formatClock, isoWeekday, localClock, localDate, localInstant, parseClock, wallMinutes, weekStart, zonedDate, zonedInstant } from './zone'

describe('days and clocks', () => {
  it('counts days across months and years, and weeks from Monday', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
    expect(isoWeekday('2026-05-11')).toBe(1)
    expect(isoWeekday('2026-05-17')).toBe(7)
    expect(weekStart('2026-05-17')).toBe('2026-05-11')
    expect(weekStart('2026-05-11')).toBe('2026-05-11')
  })

  it('reads and writes clock times, refusing what is not one', () => {
    expect(parseClock('9:05')).toBe(545)
    expect(parseClock('24:00')).toBe(1440)
    expect(parseClock('24:30')).toBeNull()
    expect(parseClock('10:60')).toBeNull()
    expect(parseClock('')).toBeNull()
    expect(formatClock(545)).toBe('09:05')
  })

  it('places an instant on the reader’s day by its wall clock', () => {
    const t = localInstant('2026-05-12', 10 * 60 + 30)
    expect(localDate(t)).toBe('2026-05-12')
    expect(localClock(t)).toBe('10:30')
    expect(wallMinutes(t, '2026-05-12')).toBe(630)
    expect(wallMinutes(t, '2026-05-11')).toBe(1440)
    expect(wallMinutes(t, '2026-05-13')).toBe(0)
  })

  it('turns a wall-clock time in a named zone into an instant and back', () => {
    // Moscow keeps UTC+3 all year.
    expect(zonedInstant('2026-05-12', 9 * 60, 'Europe/Moscow')).toBe(Date.UTC(2026, 4, 12, 6, 0))
    expect(zonedDate(Date.UTC(2026, 4, 12, 21, 30), 'Europe/Moscow')).toBe('2026-05-13')
    expect(zonedDate(Date.UTC(2026, 4, 12, 20, 30), 'Europe/Moscow')).toBe('2026-05-12')
  })

  it('follows a zone whose clocks change: Berlin is UTC+1 in winter, UTC+2 in summer', () => {
    expect(zonedInstant('2026-01-15', 9 * 60, 'Europe/Berlin')).toBe(Date.UTC(2026, 0, 15, 8, 0))
    expect(zonedInstant('2026-07-15', 9 * 60, 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 15, 7, 0))
    // The day the clocks go forward (29 March 2026, 2:00 → 3:00): noon is still noon.
    expect(zonedInstant('2026-03-29', 12 * 60, 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 10, 0))
    expect(zonedInstant('2026-03-29', 0, 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 28, 23, 0))
  })

  it('falls back to the reader’s zone for a zone it does not know', () => {
    expect(zonedInstant('2026-05-12', 600, 'Nowhere/Atlantis')).toBe(localInstant('2026-05-12', 600))
  })
})
