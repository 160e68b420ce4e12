import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { i18n } from '@/i18n'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import LanguageSwitch from './LanguageSwitch.vue'

const toasts = vi.hoisted(() => [] as { summary?: string; detail?: string }[])
vi.mock('primevue/usetoast', () => ({ useToast: () => ({ add: (m: { summary?: string; detail?: string }) => toasts.push(m) }) }))

function pressed(wrapper: ReturnType<typeof mountWith>['wrapper']): string[] {
  return wrapper.findAll('button').map((b) => `${b.text()}:${b.attributes('aria-pressed')}`)
}

describe('the language switch', () => {
  it('is a named group of buttons that say which language is on', () => {
    const { wrapper } = mountWith(LanguageSwitch)
    const group = wrapper.get('[data-testid=language-switch]')
    expect(group.attributes('role')).toBe('group')
    expect(group.attributes('aria-label')).toBe('Language')
    expect(pressed(wrapper)).toEqual(['RU:false', 'EN:true'])
    expect(wrapper.findAll('button').map((b) => [b.attributes('lang'), b.attributes('title'), b.attributes('type')])).toEqual([
      ['ru', 'Русский', 'button'],
      ['en', 'English', 'button'],
    ])
    wrapper.unmount()
  })

  it('switches the console and saves the choice in the profile', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, profile: { language: 'en' } }),
      'PATCH /api/v1/auth/me': (req) => req.body,
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(LanguageSwitch, { pinia })
    await wrapper.get('button[lang=ru]').trigger('click')
    await flushPromises()
    expect(i18n.global.locale.value).toBe('ru')
    expect(pressed(wrapper)).toEqual(['RU:true', 'EN:false'])
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ language: 'ru' }])
    // pressing the language already on asks nothing
    await wrapper.get('button[lang=ru]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(1)
    wrapper.unmount()
  })

  it('stays on the language it had when the profile refuses the change, and says so', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, profile: { language: 'en' } }),
      'PATCH /api/v1/auth/me': () => rpcError(503, 14, 'down'),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(LanguageSwitch, { pinia })
    await wrapper.get('button[lang=ru]').trigger('click')
    await flushPromises()
    expect(i18n.global.locale.value).toBe('en')
    expect(pressed(wrapper)).toEqual(['RU:false', 'EN:true'])
    expect(toasts).toEqual([expect.objectContaining({ summary: i18n.global.t('profile.languageNotSaved') })])
    wrapper.unmount()
  })
})
