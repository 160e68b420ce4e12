import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { ApiToken } from '@/api/client'
import { useAuthStore } from '@/stores/auth'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { makeTestPinia, mountWith } from '@/test/mount'
import ApiTokensView from './ApiTokensView.vue'
import { asked } from '@/test/confirmYes'

vi.mock('primevue/useconfirm', () => import('@/test/confirmYes'))

// Toasts are drawn by the layout; here they are collected.
const toasts = vi.hoisted(() => [] as { summary?: string }[])
vi.mock('primevue/usetoast', () => ({ useToast: () => ({ add: (m: { summary?: string }) => toasts.push(m) }) }))

const DAY = 86_400_000
const iso = (ms: number) => new Date(ms).toISOString()
const BILLING: ApiToken = {
  id: '3',
  name: 'Billing sync',
  prefix: 'crm_Ab3x',
  roles: ['operator'],
  createTime: iso(Date.now() - 10 * DAY),
  expireTime: iso(Date.now() + 300 * DAY),
}
const OLD: ApiToken = {
  id: '2',
  name: 'Old monitor',
  prefix: 'crm_Zz9q',
  roles: ['viewer'],
  createTime: iso(Date.now() - 400 * DAY),
  expireTime: iso(Date.now() - DAY),
}
const GONE: ApiToken = {
  id: '1',
  name: 'Test script',
  prefix: 'crm_Qq1w',
  roles: ['viewer'],
  createTime: iso(Date.now() - 40 * DAY),
  expireTime: iso(Date.now() + DAY),
  revokeTime: iso(Date.now() - 2 * DAY),
}

async function setup(tokens: ApiToken[], routes: Parameters<typeof mockApi>[0] = {}) {
  const api = mockApi({
    'GET /api/v1/auth/me': () => ADMIN_ME,
    'GET /api/v1/apiTokens': () => ({ apiTokens: tokens }),
    'GET /api/v1/roles': () => ({
      roles: [
        { name: 'operator', builtIn: true },
        { name: 'viewer', builtIn: true },
      ],
    }),
    'GET /api/v1/permissions': () => ({ permissions: [] }),
    ...routes,
  })
  const pinia = makeTestPinia()
  await useAuthStore().ensureMe()
  const { wrapper } = mountWith(ApiTokensView, { pinia })
  await vi.waitFor(() => expect(wrapper.find('[data-testid=tokens-table]').exists()).toBe(true))
  return { wrapper, ...api }
}

const body = (sel: string) => document.body.querySelector<HTMLInputElement>(sel)!

describe('the API tokens screen', () => {
  it('tells active, expired and revoked tokens apart and offers to revoke only the active one', async () => {
    const { wrapper } = await setup([BILLING, OLD, GONE])
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=token-state]')).toHaveLength(3))
    expect(wrapper.findAll('[data-testid=token-state]').map((s) => s.text())).toEqual(['Active', 'Expired', 'Revoked'])
    expect(wrapper.findAll('[data-testid=token-revoke]')).toHaveLength(1)
    expect(wrapper.text()).toContain('crm_Ab3x…')
    expect(wrapper.text()).toContain('not used yet')
    wrapper.unmount()
  })

  it('makes a token and shows it once, then lists it', async () => {
    const tokens: ApiToken[] = []
    const { wrapper, calls } = await setup(tokens, {
      'POST /api/v1/apiTokens': (req) => {
        const b = req.body as { name: string; roles: string[]; expiresInDays: number }
        tokens.unshift({ ...BILLING, name: b.name, roles: b.roles })
        return { apiToken: tokens[0], token: 'crm_Ab3xSECRETSECRETSECRET' }
      },
    })
    await wrapper.get('[data-testid=token-new]').trigger('click')
    await vi.waitFor(() => expect(body('[data-testid=token-name]')).not.toBeNull())
    const name = body('[data-testid=token-name]')
    name.value = 'Billing sync'
    name.dispatchEvent(new Event('input'))
    body('[data-testid=token-roles]').click()
    await vi.waitFor(() => expect(document.body.querySelectorAll('[role=option]').length).toBe(2))
    ;[...document.body.querySelectorAll<HTMLElement>('[role=option]')].find((o) => o.textContent?.includes('Operator'))!.click()
    await flushPromises()
    body('[data-testid=token-dialog] form').dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(body('[data-testid=token-value]')?.value).toBe('crm_Ab3xSECRETSECRETSECRET'))
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'Billing sync', roles: ['operator'], expiresInDays: 365 })
    expect(document.body.textContent).toContain('it is shown this once')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=token-state]')).toHaveLength(1))
    body('[data-testid=token-done]').click()
    await vi.waitFor(() => expect(document.body.querySelector('[data-testid=token-value]')).toBeNull())
    wrapper.unmount()
  })

  it('refuses a token with no role before asking the server, and keeps its life within 730 days', async () => {
    const { wrapper, calls } = await setup([])
    await wrapper.get('[data-testid=token-new]').trigger('click')
    await vi.waitFor(() => expect(body('[data-testid=token-name]')).not.toBeNull())
    const name = body('[data-testid=token-name]')
    name.value = 'Script'
    name.dispatchEvent(new Event('input'))
    const days = body('#token-expiresInDays')
    days.value = '900'
    days.dispatchEvent(new Event('input'))
    days.dispatchEvent(new Event('blur'))
    await flushPromises()
    body('[data-testid=token-dialog] form').dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(document.body.textContent).toContain('Pick at least one role.'))
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    expect(body('#token-expiresInDays').value).toBe('730 days')
    wrapper.unmount()
  })

  it('revokes a token once confirmed and shows it revoked', async () => {
    const tokens = [BILLING]
    const { wrapper, calls } = await setup(tokens, {
      'POST /api/v1/apiTokens/{id}:revoke': () => {
        tokens[0] = { ...BILLING, revokeTime: new Date().toISOString() }
        return tokens[0]
      },
    })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=token-revoke]').exists()).toBe(true))
    await wrapper.get('[data-testid=token-revoke]').trigger('click')
    await vi.waitFor(() => expect(calls.some((c) => c.path === '/api/v1/apiTokens/3:revoke')).toBe(true))
    expect(asked.at(-1)?.message).toContain('Billing sync')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=token-state]').text()).toBe('Revoked'))
    expect(wrapper.find('[data-testid=token-revoke]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('says why when the server refuses to revoke', async () => {
    const { wrapper } = await setup([BILLING], { 'POST /api/v1/apiTokens/{id}:revoke': () => rpcError(403, 7, 'permission denied') })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=token-revoke]').exists()).toBe(true))
    await wrapper.get('[data-testid=token-revoke]').trigger('click')
    await vi.waitFor(() => expect(toasts.at(-1)?.summary).toBe('You are not allowed to do this.'))
    expect(wrapper.get('[data-testid=token-state]').text()).toBe('Active')
    wrapper.unmount()
  })
})
