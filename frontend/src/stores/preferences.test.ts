import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '@/i18n'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { useAuthStore } from './auth'
import { usePreferencesStore } from './preferences'

const session = () => localStorage.setItem('crm.session', JSON.stringify({ accessToken: 't', expiresAt: new Date(Date.now() + 3600_000).toISOString() }))

describe('the language', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'ru'
    setActivePinia(createPinia())
  })

  it('is remembered in the browser before login', async () => {
    const prefs = usePreferencesStore()
    await prefs.setLocale('en')
    expect(i18n.global.locale.value).toBe('en')
    expect(localStorage.getItem('crm.locale')).toBe('en')
    expect(document.documentElement.lang).toBe('en')
  })

  it('follows the profile on sign-in', async () => {
    session()
    mockApi({ 'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, profile: { ...ADMIN_ME.profile, language: 'en' } }) })
    const prefs = usePreferencesStore()
    expect(prefs.locale).toBe('ru')
    await useAuthStore().ensureMe()
    await vi.waitFor(() => expect(prefs.locale).toBe('en'))
    expect(i18n.global.locale.value).toBe('en')
  })

  it('is saved in the profile when signed in', async () => {
    session()
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, profile: { language: 'ru' } }),
      'PATCH /api/v1/auth/me': (req) => req.body,
    })
    await useAuthStore().ensureMe()
    const prefs = usePreferencesStore()
    await prefs.setLocale('en')
    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.body).toEqual({ language: 'en' })
    expect(patch?.query.get('updateMask')).toBe('language')
    expect(useAuthStore().me?.profile?.language).toBe('en')
  })

  it('goes back when the profile refuses the change', async () => {
    session()
    mockApi({
      'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, profile: { language: 'ru' } }),
      'PATCH /api/v1/auth/me': () => rpcError(503, 14, 'down'),
    })
    await useAuthStore().ensureMe()
    const prefs = usePreferencesStore()
    await expect(prefs.setLocale('en')).rejects.toMatchObject({ status: 503 })
    expect(prefs.locale).toBe('ru')
  })
})
