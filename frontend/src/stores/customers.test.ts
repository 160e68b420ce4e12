import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { mockApi, rpcError } from '@/test/mockApi'
import { useCustomersStore } from './customers'

const customer = (id: number, name = `Customer ${id}`) => ({ id: String(id), name, phones: [{ id: String(id * 10), number: `+7912000${1000 + id}` }] })

describe('the customers store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('searches and pages on with the server’s token', async () => {
    const { calls } = mockApi({
      'GET /api/v1/customers': (req) =>
        req.query.get('pageToken') === 'p2' ? { customers: [customer(3)] } : { customers: [customer(1), customer(2)], nextPageToken: 'p2' },
    })
    const store = useCustomersStore()
    await store.search('  912 ')
    expect(store.results.items.map((c) => c.id)).toEqual(['1', '2'])
    expect(store.results.hasMore).toBe(true)
    expect(calls[0]?.query.get('query')).toBe('912')
    expect(calls[0]?.query.get('pageSize')).toBe('20')

    await store.results.loadMore()
    expect(store.results.items.map((c) => c.id)).toEqual(['1', '2', '3'])
    expect(store.results.hasMore).toBe(false)
    expect(calls[1]?.query.get('pageToken')).toBe('p2')
    expect(calls[1]?.query.get('query')).toBe('912')
  })

  it('sends no query for an empty search (the newest customers)', async () => {
    const { calls } = mockApi({ 'GET /api/v1/customers': () => ({ customers: [] }) })
    await useCustomersStore().search('')
    expect(calls[0]?.query.has('query')).toBe(false)
  })

  it('drops the answer to an older search that arrives late', async () => {
    let releaseSlow: () => void = () => {}
    mockApi({
      'GET /api/v1/customers': async (req) => {
        if (req.query.get('query') === 'iv') {
          await new Promise<void>((r) => (releaseSlow = r))
          return { customers: [customer(1, 'Ivan')] }
        }
        return { customers: [customer(2, 'Ivanova')] }
      },
    })
    const store = useCustomersStore()
    const slow = store.search('iv')
    await store.search('ivanova')
    releaseSlow()
    await slow
    expect(store.results.items.map((c) => c.name)).toEqual(['Ivanova'])
    expect(store.query).toBe('ivanova')
    expect(store.results.loading).toBe(false)
  })

  it('keeps the error of a failed search for the screen', async () => {
    mockApi({ 'GET /api/v1/customers': () => rpcError(503, 14, 'customer service unavailable') })
    const store = useCustomersStore()
    await store.search('x')
    expect(store.results.error?.status).toBe(503)
    expect(store.results.items).toEqual([])
  })

  it('updates with the etag and the mask, and refreshes the loaded list', async () => {
    const { calls } = mockApi({
      'GET /api/v1/customers': () => ({ customers: [customer(5, 'Old')] }),
      'PATCH /api/v1/customers/{id}': (req) => ({ ...customer(5), ...(req.body as object), etag: '8' }),
    })
    const store = useCustomersStore()
    await store.search('')
    await store.update('5', '7', { name: 'New', email: 'n@example.com', kind: 'CUSTOMER_KIND_PERSON', address: '' }, ['name', 'email'])
    expect(calls[1]?.query.get('updateMask')).toBe('name,email')
    expect(calls[1]?.body).toMatchObject({ etag: '7', name: 'New', email: 'n@example.com' })
    expect(store.results.items[0]?.name).toBe('New')
  })

  it('creates with phones and shows the new customer first in the unfiltered list', async () => {
    const { calls } = mockApi({
      'GET /api/v1/customers': () => ({ customers: [customer(1)] }),
      'POST /api/v1/customers': (req) => ({ id: '9', ...(req.body as object) }),
    })
    const store = useCustomersStore()
    await store.search('')
    await store.create({ name: 'Ivan', kind: 'CUSTOMER_KIND_PERSON', phones: [{ number: '+79123456789' }, { number: '+79001112233', label: 'home' }] })
    expect((calls[1]?.body as { phones: unknown[] }).phones).toHaveLength(2)
    expect(store.results.items.map((c) => c.id)).toEqual(['9', '1'])
  })
})
