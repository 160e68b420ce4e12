import { describe, expect, it } from 'vitest'
import { changedTariffFields, tariffDraftOf, toFields, validateTariff } from './tariffDraft'

const HOME = {
  id: '1',
  name: 'Home 100',
  customerKind: 'CUSTOMER_KIND_PERSON' as const,
  technology: 'FTTB',
  speedMbps: 100,
  monthlyFee: { amountMinor: '50000', currency: 'RUB' },
  etag: '3',
}

describe('the tariff form', () => {
  it('edits the fee in roubles and sends kopecks, the technology upper-cased', () => {
    const d = tariffDraftOf(HOME)
    expect(d.fee).toBe(500)
    d.fee = 549.9
    d.technology = ' gpon '
    expect(toFields(d)).toEqual({
      name: 'Home 100',
      customerKind: 'CUSTOMER_KIND_PERSON',
      technology: 'GPON',
      speedMbps: 100,
      monthlyFee: { amountMinor: '54990', currency: 'RUB' },
    })
  })

  it('names only the changed fields for the update mask', () => {
    const d = tariffDraftOf(HOME)
    expect(changedTariffFields(d, HOME)).toEqual([])
    d.speedMbps = 200
    d.customerKind = 'CUSTOMER_KIND_COMPANY'
    expect(changedTariffFields(d, HOME)).toEqual(['customerKind', 'speedMbps'])
    d.fee = 600
    expect(changedTariffFields(d, HOME)).toContain('monthlyFee')
  })

  it('checks every field before asking the server', () => {
    const d = tariffDraftOf()
    d.currency = 'RU'
    d.technology = 'fiber optic'
    expect(Object.keys(validateTariff(d)).sort()).toEqual(['monthlyFee.amountMinor', 'monthlyFee.currency', 'name', 'speedMbps', 'technology'])
  })

  it('takes a name as long as the server does', () => {
    const d = tariffDraftOf()
    d.name = 'т'.repeat(200)
    expect(validateTariff(d).name).toBeUndefined()
    d.name += 'т'
    expect(validateTariff(d).name).toBeDefined()
  })
})
