// The tariff form's data and checks; fees are typed in major units.

import type { Tariff } from '@/api/client'
import { LIMITS as API } from '@/api/limits.gen'
import type { FieldProblems } from '@/api/problems'
import type { TariffFields } from '@/stores/tariffs'
import { DEFAULT_CURRENCY, toMajor, toMinor } from '@/utils/money'

export const LIMITS = { name: API.Tariff.name.maxLength, technology: API.Tariff.technology.maxLength, speed: 100_000 } as const

export interface TariffDraft {
  name: string
  customerKind: 'CUSTOMER_KIND_PERSON' | 'CUSTOMER_KIND_COMPANY'
  technology: string
  speedMbps: number | null
  fee: number | null
  currency: string
}

export function tariffDraftOf(t?: Tariff): TariffDraft {
  const currency = (t?.monthlyFee?.currency || DEFAULT_CURRENCY).toUpperCase()
  return {
    name: t?.name ?? '',
    customerKind: t?.customerKind === 'CUSTOMER_KIND_COMPANY' ? 'CUSTOMER_KIND_COMPANY' : 'CUSTOMER_KIND_PERSON',
    technology: t?.technology ?? '',
    speedMbps: t?.speedMbps ?? null,
    fee: t ? toMajor(t.monthlyFee?.amountMinor, currency) : null,
    currency,
  }
}

export function validateTariff(d: TariffDraft): FieldProblems {
  const out: FieldProblems = {}
  const name = d.name.trim()
  if (!name) out.name = { key: 'validation.required' }
  else if ([...name].length > LIMITS.name) out.name = { key: 'validation.tooLong', params: { max: LIMITS.name } }
  const tech = d.technology.trim()
  if (!tech) out.technology = { key: 'validation.required' }
  else if (!/^[A-Za-z0-9]+$/.test(tech) || tech.length > LIMITS.technology) out.technology = { key: 'tariffs.errors.technology' }
  if (d.speedMbps === null || d.speedMbps < 1 || d.speedMbps > LIMITS.speed) out.speedMbps = { key: 'tariffs.errors.speed', params: { max: LIMITS.speed } }
  if (d.fee === null || d.fee < 0) out['monthlyFee.amountMinor'] = { key: 'tariffs.errors.fee' }
  if (!/^[A-Za-z]{3}$/.test(d.currency.trim())) out['monthlyFee.currency'] = { key: 'tariffs.errors.currency' }
  return out
}

export function toFields(d: TariffDraft): TariffFields {
  const currency = d.currency.trim().toUpperCase() || DEFAULT_CURRENCY
  return {
    name: d.name.trim(),
    customerKind: d.customerKind,
    technology: d.technology.trim().toUpperCase(),
    speedMbps: Math.round(d.speedMbps ?? 0),
    monthlyFee: { amountMinor: toMinor(d.fee ?? 0, currency), currency },
  }
}

/** The fields of the draft that differ from the tariff (the update mask). */
export function changedTariffFields(d: TariffDraft, t: Tariff): (keyof TariffFields)[] {
  const next = toFields(d)
  const out: (keyof TariffFields)[] = []
  if (next.name !== t.name) out.push('name')
  if (next.customerKind !== (t.customerKind === 'CUSTOMER_KIND_COMPANY' ? 'CUSTOMER_KIND_COMPANY' : 'CUSTOMER_KIND_PERSON')) out.push('customerKind')
  if (next.technology !== t.technology) out.push('technology')
  if (next.speedMbps !== t.speedMbps) out.push('speedMbps')
  if (
    next.monthlyFee.amountMinor !== String(t.monthlyFee?.amountMinor ?? '0') ||
    next.monthlyFee.currency !== (t.monthlyFee?.currency || DEFAULT_CURRENCY).toUpperCase()
  )
    out.push('monthlyFee')
  return out
}
