import { describe, expect, it } from 'vitest'
import { formatHours, formatRelative, hoursToSeconds, secondsToHours } from './format'
import { formatMoney, minorDigits, toMajor, toMinor } from './money'

describe('money', () => {
  it('turns kopecks into roubles and back', () => {
    expect(minorDigits('RUB')).toBe(2)
    expect(minorDigits('JPY')).toBe(0)
    expect(toMajor('150050')).toBe(1500.5)
    expect(toMinor(1500.5)).toBe('150050')
    expect(toMinor(0.1 + 0.2)).toBe('30')
  })

  it('shows whole amounts without kopecks, others with them', () => {
    const plain = (s: string) => s.replace(/\s/g, ' ')
    expect(plain(formatMoney({ amountMinor: '50000', currency: 'RUB' }, 'en'))).toBe('RUB 500')
    expect(plain(formatMoney({ amountMinor: '50050', currency: 'RUB' }, 'en'))).toBe('RUB 500.50')
    expect(formatMoney(undefined, 'en')).toBe('')
  })
})

describe('durations and times', () => {
  it('converts between the hours people type and the seconds the API keeps', () => {
    expect(hoursToSeconds(1.5)).toBe('5400')
    expect(hoursToSeconds(null)).toBe('0')
    expect(secondsToHours('86400')).toBe(24)
    expect(secondsToHours('0')).toBeNull()
    expect(formatHours('5400', 'en')).toBe('1.5 hr')
  })

  it('says how far a time is from now', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0)
    expect(formatRelative(new Date(now + 3 * 3600_000).toISOString(), 'en', now)).toBe('in 3 hours')
    expect(formatRelative(new Date(now - 2 * 86_400_000).toISOString(), 'en', now)).toBe('2 days ago')
    expect(formatRelative('', 'en', now)).toBe('')
  })
})
