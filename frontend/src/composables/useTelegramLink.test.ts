import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { useAuthStore } from '@/stores/auth'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { useTelegramLink } from './useTelegramLink'

describe('useTelegramLink', () => {
  beforeEach(() => {
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 't', expiresAt: new Date(Date.now() + 86_400_000).toISOString() }))
    setActivePinia(createPinia())
  })

  it('shows the code until the bot has linked the chat, then stops asking', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] })
    let linked = false
    const { calls } = mockApi({
      'POST /api/v1/telegram:link': () => ({
        code: 'K7Q2',
        deepLink: 'https://t.me/crm_bot?start=K7Q2',
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
      }),
      'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, telegramLinked: linked }),
    })
    await useAuthStore().ensureMe()
    const scope = effectScope()
    const tg = scope.run(() => useTelegramLink(1000))!
    await tg.request()
    expect(tg.active.value).toBe(true)
    expect(tg.link.value?.code).toBe('K7Q2')
    expect(tg.secondsLeft.value).toBe(600)

    await vi.advanceTimersByTimeAsync(1000)
    expect(tg.linked.value).toBe(false)
    linked = true
    await vi.advanceTimersByTimeAsync(1000)
    expect(tg.linked.value).toBe(true)
    expect(tg.link.value).toBeNull()
    const asked = calls.filter((c) => c.path === '/api/v1/auth/me').length
    await vi.advanceTimersByTimeAsync(5000)
    expect(calls.filter((c) => c.path === '/api/v1/auth/me').length).toBe(asked)
    scope.stop()
  })

  it('stops polling when the code expires', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] })
    const { calls } = mockApi({
      'POST /api/v1/telegram:link': () => ({ code: 'AB12', expiresAt: new Date(Date.now() + 3000).toISOString() }),
      'GET /api/v1/auth/me': () => ADMIN_ME,
    })
    const scope = effectScope()
    const tg = scope.run(() => useTelegramLink(1000))!
    await tg.request()
    await vi.advanceTimersByTimeAsync(3000)
    expect(tg.expired.value).toBe(true)
    expect(tg.active.value).toBe(false)
    const asked = calls.length
    await vi.advanceTimersByTimeAsync(5000)
    expect(calls.length).toBe(asked)
    scope.stop()
  })

  it('keeps the error of a refused request', async () => {
    mockApi({ 'POST /api/v1/telegram:link': () => rpcError(503, 14, 'identity unavailable') })
    const scope = effectScope()
    const tg = scope.run(() => useTelegramLink())!
    await tg.request()
    expect(tg.error.value?.status).toBe(503)
    expect(tg.active.value).toBe(false)
    scope.stop()
  })

  it('unlinks the chat and reads the caller again', async () => {
    let linked = true
    const { calls } = mockApi({
      'POST /api/v1/telegram:unlink': () => {
        linked = false
        return {}
      },
      'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, telegramLinked: linked }),
    })
    await useAuthStore().ensureMe()
    const scope = effectScope()
    const tg = scope.run(() => useTelegramLink())!
    expect(tg.linked.value).toBe(true)
    await tg.unlink()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/telegram:unlink')).toBe(true)
    expect(tg.linked.value).toBe(false)
    expect(tg.unlinking.value).toBe(false)
    scope.stop()
  })
})
