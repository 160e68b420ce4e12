import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { mockApi, rpcError } from '@/test/mockApi'
import { useRoutesStore } from './routes'

const ROUTES = [
  { id: '1', name: 'New connection', connection: true, version: 1, processes: [{ id: '1', name: 'Sales check' }] },
  { id: '2', name: 'Repair', version: 4, processes: [{ id: '6', name: 'Diagnostics' }] },
]

describe('the routes store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('reads the list once for every screen that needs it', async () => {
    const { calls } = mockApi({ 'GET /api/v1/routes': () => ({ routes: ROUTES }) })
    const store = useRoutesStore()
    await Promise.all([store.load(), store.load()])
    await store.load()
    expect(calls).toHaveLength(1)
    await store.load(true)
    expect(calls).toHaveLength(2)
  })

  it('offers every route but No. 1 for service tasks', async () => {
    mockApi({ 'GET /api/v1/routes': () => ({ routes: ROUTES }) })
    const store = useRoutesStore()
    await store.load()
    expect(store.serviceRoutes.map((r) => r.id)).toEqual(['2'])
  })

  it('saves an edit with the version it was made on, and keeps the new version', async () => {
    const { calls } = mockApi({
      'GET /api/v1/routes': () => ({ routes: ROUTES }),
      'PATCH /api/v1/routes/{id}': (req) => ({ ...(req.body as object), version: 5 }),
    })
    const store = useRoutesStore()
    await store.load()
    const saved = await store.update('2', { name: 'Repair 2', processes: [] }, 4)
    expect(calls[1]?.path).toBe('/api/v1/routes/2')
    expect(calls[1]?.query.get('expectedVersion')).toBe('4')
    expect(calls[1]?.body).toMatchObject({ id: '2', name: 'Repair 2' })
    expect(saved.version).toBe(5)
    expect(store.byId('2')?.name).toBe('Repair 2')
  })

  it('lets a stale edit fail with 409', async () => {
    mockApi({ 'PATCH /api/v1/routes/{id}': () => rpcError(409, 10, 'route "Repair" was changed by someone else (now version 5)') })
    await expect(useRoutesStore().update('2', { name: 'x' }, 4)).rejects.toMatchObject({ stale: true, status: 409 })
  })

  it('keeps the error of a failed list for the screen', async () => {
    mockApi({ 'GET /api/v1/routes': () => rpcError(503, 14, 'task service unavailable') })
    const store = useRoutesStore()
    await store.load()
    expect(store.error?.status).toBe(503)
    expect(store.loaded).toBe(false)
  })
})
