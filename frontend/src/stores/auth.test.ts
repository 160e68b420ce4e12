import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { useAuthStore } from './auth'

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString()

describe('the session store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('signs in, keeps the token and learns the permissions', async () => {
    const { calls } = mockApi({
      'POST /api/v1/auth/login': () => ({ accessToken: 'tok', expiresAt: inAnHour(), user: ADMIN_ME.user }),
      'GET /api/v1/auth/me': () => ADMIN_ME,
    })
    const auth = useAuthStore()
    await auth.login('admin', 'secret')
    expect(auth.isAuthenticated).toBe(true)
    expect(auth.can('customers.write', 'users.manage')).toBe(true)
    expect(auth.displayName).toBe('Anna Admin')
    expect(JSON.parse(localStorage.getItem('crm.session') ?? '{}')).toMatchObject({ accessToken: 'tok' })
    expect(calls[1]?.headers.get('Authorization')).toBe('Bearer tok')
  })

  it('knows a viewer may read but not write', async () => {
    mockApi({
      'POST /api/v1/auth/login': () => ({ accessToken: 'tok', expiresAt: inAnHour() }),
      'GET /api/v1/auth/me': () => VIEWER_ME,
    })
    const auth = useAuthStore()
    await auth.login('victor', 'pw')
    expect(auth.can('customers.read')).toBe(true)
    expect(auth.can('customers.write')).toBe(false)
    expect(auth.can('customers.read', 'customers.write')).toBe(false)
  })

  it('refuses a wrong password without keeping anything', async () => {
    mockApi({ 'POST /api/v1/auth/login': () => rpcError(401, 16, 'wrong login or password') })
    const auth = useAuthStore()
    await expect(auth.login('admin', 'nope')).rejects.toMatchObject({ status: 401 })
    expect(auth.isAuthenticated).toBe(false)
    expect(localStorage.getItem('crm.session')).toBeNull()
  })

  it('picks a stored session up after a reload, but not an expired one', () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'kept', expiresAt: inAnHour() }))
    expect(useAuthStore().token).toBe('kept')

    setActivePinia(createPinia())
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'old', expiresAt: new Date(Date.now() - 1000).toISOString() }))
    expect(useAuthStore().isAuthenticated).toBe(false)
  })

  it('logs out on the server and forgets the session even when that call fails', async () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: inAnHour() }))
    const { calls } = mockApi({ 'POST /api/v1/auth/logout': () => rpcError(503, 14, 'down') })
    const auth = useAuthStore()
    await auth.logout()
    expect(calls.map((c) => c.path)).toEqual(['/api/v1/auth/logout'])
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.ended).toBeNull()
    expect(localStorage.getItem('crm.session')).toBeNull()
  })

  it('ends the session when the server answers 401, and says so', async () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'revoked', expiresAt: inAnHour() }))
    mockApi({ 'GET /api/v1/auth/me': () => rpcError(401, 16, 'the session has ended') })
    const auth = useAuthStore()
    await expect(auth.ensureMe()).rejects.toMatchObject({ status: 401 })
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.ended).toBe('expired')
  })

  it('keeps a failed read of who is signed in in error, and clears it when read again', async () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: inAnHour() }))
    let down = true
    mockApi({ 'GET /api/v1/auth/me': () => (down ? rpcError(503, 14, 'identity is down') : ADMIN_ME) })
    const auth = useAuthStore()
    await expect(auth.ensureMe()).rejects.toMatchObject({ status: 503 })
    expect(auth.error?.message).toBe('identity is down')
    expect(auth.loading).toBe(false)
    expect(auth.loaded).toBe(false)
    down = false
    const again = auth.ensureMe()
    expect(auth.loading).toBe(true)
    expect(auth.error).toBeNull()
    await again
    expect(auth.loaded).toBe(true)
    expect(auth.me?.user?.login).toBe('admin')
  })

  it('ends the session when its time is up', async () => {
    vi.useFakeTimers()
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: new Date(Date.now() + 60_000).toISOString() }))
    const auth = useAuthStore()
    expect(auth.isAuthenticated).toBe(true)
    vi.advanceTimersByTime(60_001)
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.ended).toBe('expired')
  })

  it('loads who is signed in once for concurrent callers', async () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: inAnHour() }))
    const { calls } = mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const auth = useAuthStore()
    await Promise.all([auth.ensureMe(), auth.ensureMe(), auth.ensureMe()])
    // a late caller would show as a second request
    await flushPromises()
    expect(calls).toHaveLength(1)
    expect(auth.me?.user?.login).toBe('admin')
  })

  it('saves the profile with an update mask', async () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: inAnHour() }))
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'PATCH /api/v1/auth/me': (req) => ({ ...ADMIN_ME.profile, ...(req.body as object) }),
    })
    const auth = useAuthStore()
    await auth.ensureMe()
    await auth.updateProfile({ notifySelf: true }, ['notifySelf'])
    expect(calls[1]?.query.get('updateMask')).toBe('notifySelf')
    expect(calls[1]?.body).toEqual({ notifySelf: true })
    expect(auth.me?.profile?.notifySelf).toBe(true)
  })

  it('shows internals (ids, the workflow link) to supervisors and admins only', async () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: inAnHour() }))
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const admin = useAuthStore()
    await admin.ensureMe()
    expect(admin.seesInternals).toBe(true)

    setActivePinia(createPinia())
    mockApi({ 'GET /api/v1/auth/me': () => VIEWER_ME })
    const viewer = useAuthStore()
    await viewer.ensureMe()
    expect(viewer.seesInternals).toBe(false)
  })

  it('learns from a refused call mid-session that the password must be changed', async () => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: inAnHour() }))
    mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers': () => rpcError(403, 7, 'change your password first', { reason: 'PASSWORD_CHANGE_REQUIRED' }),
      'GET /api/v1/tasks': () => rpcError(403, 7, 'tasks.manage is needed'),
    })
    const auth = useAuthStore()
    await auth.ensureMe()
    const { api } = await import('@/api/client')
    await api.GET('/api/v1/tasks').catch(() => {})
    expect(auth.mustChangePassword).toBe(false)
    await api.GET('/api/v1/customers').catch(() => {})
    expect(auth.mustChangePassword).toBe(true)
    expect(auth.isAuthenticated).toBe(true)
  })
})
