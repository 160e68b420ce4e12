import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Tariff } from '@/api/client'
import { mockApi, rpcError } from '@/test/mockApi'
import { useTariffsStore } from './tariffs'

const HOME: Tariff = {
  id: '1',
  name: 'Home 100',
  customerKind: 'CUSTOMER_KIND_PERSON',
  technology: 'FTTB',
  speedMbps: 100,
  monthlyFee: { amountMinor: '50000', currency: 'RUB' },
  active: true,
  etag: '3',
}

describe('the tariffs store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('lists every tariff, deactivated ones too, over all pages', async () => {
    const { calls } = mockApi({
      'GET /api/v1/tariffs': (req) =>
        req.query.get('pageToken') ? { tariffs: [{ ...HOME, id: '2', active: false }] } : { tariffs: [HOME], nextPageToken: 'p2' },
    })
    const store = useTariffsStore()
    await store.load()
    expect(store.tariffs.map((t) => t.id)).toEqual(['1', '2'])
    expect(calls[0]?.query.get('includeInactive')).toBe('true')
    expect(store.cached('2')?.active).toBe(false)
  })

  it('reads a tariff once and answers later asks from memory', async () => {
    const { calls } = mockApi({ 'GET /api/v1/tariffs/{id}': () => HOME })
    const store = useTariffsStore()
    const [a, b] = await Promise.all([store.get('1'), store.get('1')])
    expect(a).toEqual(HOME)
    expect(b).toEqual(HOME)
    await store.get('1')
    expect(calls).toHaveLength(1)
  })

  it('sends an edit with the etag it was read with and the changed fields as the mask', async () => {
    const { calls } = mockApi({ 'PATCH /api/v1/tariffs/{id}': (req) => ({ ...HOME, ...(req.body as object), etag: '4' }) })
    const store = useTariffsStore()
    const fields = {
      name: 'Home 100+',
      customerKind: 'CUSTOMER_KIND_PERSON' as const,
      technology: 'FTTB',
      speedMbps: 200,
      monthlyFee: { amountMinor: '60000', currency: 'RUB' },
    }
    const saved = await store.update(HOME, fields, ['speedMbps', 'monthlyFee'])
    expect(calls[0]?.query.get('updateMask')).toBe('speed_mbps,monthly_fee')
    expect(calls[0]?.body).toMatchObject({ etag: '3', speedMbps: 200 })
    expect(saved.etag).toBe('4')
  })

  it('deactivates with the active field alone', async () => {
    const { calls } = mockApi({ 'PATCH /api/v1/tariffs/{id}': () => ({ ...HOME, active: false, etag: '4' }) })
    await useTariffsStore().setActive(HOME, false)
    expect(calls[0]?.query.get('updateMask')).toBe('active')
    expect(calls[0]?.body).toMatchObject({ active: false, etag: '3' })
  })

  it('lets a stale edit fail for the screen to say so', async () => {
    mockApi({ 'PATCH /api/v1/tariffs/{id}': () => rpcError(409, 10, 'tariff 1 was changed meanwhile', { reason: 'STALE_ETAG' }) })
    await expect(useTariffsStore().setActive(HOME, false)).rejects.toMatchObject({ stale: true })
  })

  it('ranks suitable tariffs for the requirements that are set', async () => {
    const { calls } = mockApi({ 'GET /api/v1/tariffs:suggest': () => ({ tariffs: [HOME] }) })
    const ranked = await useTariffsStore().suggest({ customerKind: 'CUSTOMER_KIND_PERSON', technology: ' ', minSpeedMbps: 50, maxMonthlyFee: '70000' })
    expect(ranked).toEqual([HOME])
    expect(Object.fromEntries(calls[0]!.query)).toEqual({ customerKind: 'CUSTOMER_KIND_PERSON', minSpeedMbps: '50', maxMonthlyFee: '70000' })
  })
})
