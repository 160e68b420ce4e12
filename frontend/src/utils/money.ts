// Money travels as an integer number of the currency's minor units
// (kopecks for RUB) with its ISO code; people see and type major units.

import type { Money } from '@/api/client'

export const DEFAULT_CURRENCY = 'RUB'

/** How many minor units make a major one (2 for RUB, 0 for JPY). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    return 2
  }
}

/** "150000" kopecks → 1500 roubles. */
export function toMajor(amountMinor: string | number | undefined, currency = DEFAULT_CURRENCY): number {
  const n = Number(amountMinor ?? 0)
  if (!Number.isFinite(n)) return 0
  return n / 10 ** minorDigits(currency)
}

/** 1500.5 roubles → "150050" kopecks (rounded to the minor unit). */
export function toMinor(major: number, currency = DEFAULT_CURRENCY): string {
  return String(Math.round(major * 10 ** minorDigits(currency)))
}

export function formatMoney(m: Money | undefined, locale: string): string {
  if (!m) return ''
  const currency = (m.currency || DEFAULT_CURRENCY).toUpperCase()
  const major = toMajor(m.amountMinor, currency)
  try {
    const digits = Number.isInteger(major) ? 0 : minorDigits(currency)
    return new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(major)
  } catch {
    return `${major} ${currency}`
  }
}
