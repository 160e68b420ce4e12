import { describe, expect, it, vi } from 'vitest'
import { bindSession, createApi, ok } from './client'
import { ApiError } from './errors'
import { json, mockApi, rpcError } from '@/test/mockApi'

describe('the API client', () => {
  it('sends the session’s bearer token', async () => {
    bindSession({ token: () => 'tok-1', ended: () => {} })
    const { calls } = mockApi({ 'GET /api/v1/auth/me': () => ({ user: { login: 'admin' } }) })
    const api = createApi()
    const me = await ok(api.GET('/api/v1/auth/me'))
    expect(me.user?.login).toBe('admin')
    expect(calls[0]?.headers.get('Authorization')).toBe('Bearer tok-1')
  })

  it('sends no token to login', async () => {
    bindSession({ token: () => 'tok-1', ended: () => {} })
    const { calls } = mockApi({ 'POST /api/v1/auth/login': () => ({ accessToken: 'new' }) })
    await ok(createApi().POST('/api/v1/auth/login', { body: { login: 'a', password: 'b' } }))
    expect(calls[0]?.headers.get('Authorization')).toBeNull()
  })

  it('throws a typed ApiError for a google.rpc.Status answer', async () => {
    bindSession({ token: () => 't', ended: () => {} })
    mockApi({
      'POST /api/v1/customers': () =>
        rpcError(409, 6, 'the number +79123456789 is taken by customer 12', {
          fields: { 'phones[1].number': 'taken' },
          reason: 'PHONE_TAKEN',
          metadata: { customerId: '12' },
        }),
    })
    const err = await ok(createApi().POST('/api/v1/customers', { body: { name: 'x', phones: [] } })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).fieldErrors['phones[1].number']).toBe('taken')
    expect((err as ApiError).metadata.customerId).toBe('12')
  })

  it('ends the session on a 401 from an authenticated call', async () => {
    const ended = vi.fn()
    bindSession({ token: () => 't', ended })
    mockApi({ 'GET /api/v1/auth/me': () => rpcError(401, 16, 'the session has ended') })
    await expect(ok(createApi().GET('/api/v1/auth/me'))).rejects.toMatchObject({ status: 401 })
    expect(ended).toHaveBeenCalledOnce()
  })

  it('does not end the session for a wrong password', async () => {
    const ended = vi.fn()
    bindSession({ token: () => null, ended })
    mockApi({ 'POST /api/v1/auth/login': () => rpcError(401, 16, 'wrong login or password') })
    await expect(ok(createApi().POST('/api/v1/auth/login', { body: { login: 'a', password: 'b' } }))).rejects.toMatchObject({ unauthenticated: true })
    expect(ended).not.toHaveBeenCalled()
  })

  it('reports an unreachable server as a network ApiError', async () => {
    bindSession({ token: () => 't', ended: () => {} })
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))),
    )
    await expect(ok(createApi().GET('/api/v1/auth/me'))).rejects.toMatchObject({ network: true, status: 0 })
  })

  it('fills the path parameter of an update', async () => {
    bindSession({ token: () => 't', ended: () => {} })
    const { calls } = mockApi({ 'PATCH /api/v1/customers/{id}': (req) => json(200, { id: '5', name: 'x', ...(req.body as object) }) })
    await ok(
      createApi().PATCH('/api/v1/customers/{id}', {
        params: { path: { id: '5' }, query: { updateMask: 'name' } },
        body: { name: 'x', etag: '3' },
      }),
    )
    expect(calls[0]?.path).toBe('/api/v1/customers/5')
    expect(calls[0]?.query.get('updateMask')).toBe('name')
  })
})
