import { describe, expect, it, vi } from 'vitest'
import type { CustomerTemplate, RequestKind } from '@/api/client'
import { useAuthStore } from '@/stores/auth'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { makeTestPinia, mountWith } from '@/test/mount'
import CustomerMessagesView from './CustomerMessagesView.vue'
import { asked } from '@/test/confirmYes'

vi.mock('primevue/useconfirm', () => import('@/test/confirmYes'))

const TEMPLATES: CustomerTemplate[] = [
  {
    milestone: 'contract_opened',
    language: 'ru',
    text: 'Договор {contract} открыт',
    defaultText: 'Договор {contract} открыт',
    placeholders: ['name', 'contract'],
  },
  { milestone: 'connected', language: 'en', text: 'Your line is up, {name}', defaultText: 'Connected', placeholders: ['name', 'contract'], custom: true },
]
const KINDS: RequestKind[] = [{ id: '1', label: '', routeId: '2', code: 'no_internet', name: 'No internet' }]
const ROUTES = {
  routes: [
    { id: '1', name: 'New connection', connection: true },
    { id: '2', name: 'Repair' },
    { id: '4', name: 'Suspension' },
  ],
}

async function setup(me: typeof ADMIN_ME, routes: Parameters<typeof mockApi>[0] = {}) {
  localStorage.setItem('crm.session', JSON.stringify({ accessToken: 't', expiresAt: new Date(Date.now() + 3600_000).toISOString() }))
  const api = mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/customerTemplates': () => ({ templates: TEMPLATES }),
    'GET /api/v1/requestKinds': () => ({ kinds: KINDS }),
    'GET /api/v1/routes': () => ROUTES,
    ...routes,
  })
  const pinia = makeTestPinia()
  await useAuthStore().ensureMe()
  const { wrapper } = mountWith(CustomerMessagesView, { pinia })
  await vi.waitFor(() => expect(wrapper.findAll('[data-testid=template]')).toHaveLength(2))
  return { wrapper, ...api }
}

describe('the customer messages settings', () => {
  it('edits a text with a placeholder put at the cursor, previews it and saves it', async () => {
    const { wrapper, calls } = await setup(ADMIN_ME, {
      'POST /api/v1/customerTemplates:preview': (req) => ({
        text: String((req.body as { text: string }).text)
          .replace('{contract}', 'C-000123')
          .replace('{name}', 'Ivan'),
      }),
      'PUT /api/v1/customerTemplates/{milestone}/{language}': (req, p) => ({ ...TEMPLATES[0], ...p, text: (req.body as { text: string }).text, custom: true }),
    })
    expect(wrapper.findAll('[data-testid=template-custom]')).toHaveLength(1)
    await wrapper.findAll('[data-testid=template-edit]')[0]!.trigger('click')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=template-preview]').text()).toBe('Договор C-000123 открыт'))
    const area = wrapper.get('[data-testid=template-text]')
    await area.setValue('Здравствуйте, ! Договор {contract} открыт')
    ;(area.element as HTMLTextAreaElement).setSelectionRange(14, 14)
    await wrapper.findAll('[data-testid=placeholder]')[0]!.trigger('click')
    await vi.waitFor(() => expect((area.element as HTMLTextAreaElement).value).toBe('Здравствуйте, {name}! Договор {contract} открыт'))
    await vi.waitFor(() => expect(wrapper.get('[data-testid=template-preview]').text()).toBe('Здравствуйте, Ivan! Договор C-000123 открыт'))
    await wrapper.get('[data-testid=template-editor]').trigger('submit')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=template-editor]').exists()).toBe(false))
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.path).toBe('/api/v1/customerTemplates/contract_opened/ru')
    expect(put?.body).toEqual({ text: 'Здравствуйте, {name}! Договор {contract} открыт' })
    expect(wrapper.findAll('[data-testid=template-custom]')).toHaveLength(2)
  })

  it('goes back to the default text after a confirmation', async () => {
    const { wrapper, calls } = await setup(ADMIN_ME, {
      // as the gateway answers: a false "custom" is left out
      'PUT /api/v1/customerTemplates/{milestone}/{language}': (_req, p) => ({
        ...p,
        text: 'Connected',
        defaultText: 'Connected',
        placeholders: ['name', 'contract'],
      }),
    })
    await wrapper.get('[data-testid=template-restore]').trigger('click')
    expect(asked.at(-1)?.message).toContain('Connected')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=template-custom]').exists()).toBe(false))
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ text: '' })
  })

  it('shows an unknown placeholder refused by the server at the text', async () => {
    const refusal = 'the text names {visit}, which this message does not fill; it fills {name}, {contract}'
    const { wrapper } = await setup(ADMIN_ME, {
      'POST /api/v1/customerTemplates:preview': () => rpcError(400, 3, refusal, { fields: { text: refusal } }),
      'PUT /api/v1/customerTemplates/{milestone}/{language}': () => rpcError(400, 3, refusal, { fields: { text: refusal } }),
    })
    await wrapper.findAll('[data-testid=template-edit]')[0]!.trigger('click')
    await wrapper.get('[data-testid=template-text]').setValue('Выезд {visit}')
    await wrapper.get('[data-testid=template-editor]').trigger('submit')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=template-editor]').text()).toContain('which this message does not fill'))
  })

  it('saves the request kinds as a list: a new kind needs a route, and a refusal lands on its row', async () => {
    const { wrapper, calls } = await setup(ADMIN_ME, {
      'PUT /api/v1/requestKinds': (req) => {
        const kinds = (req.body as { kinds: RequestKind[] }).kinds
        if (kinds.length > 2) return rpcError(400, 3, 'route 4 is not a service route', { fields: { 'kinds[2].routeId': 'route 4 is not a service route' } })
        return { kinds: kinds.map((k, i) => ({ ...k, id: k.id === '0' ? String(10 + i) : k.id, name: k.label || 'No internet' })) }
      },
    })
    expect(wrapper.findAll('[data-testid=request-kind]')).toHaveLength(1)
    await wrapper.get('[data-testid=kind-add]').trigger('click')
    await wrapper.findAll('[data-testid=kind-label]')[1]!.setValue('Pause the service')
    await wrapper.get('[data-testid=kinds-save]').trigger('click')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=request-kind]')[1]!.text()).toContain('Choose a route'))
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0)
  })

  it('shows a reader the texts and kinds without a way to change them', async () => {
    const { wrapper } = await setup(VIEWER_ME)
    expect(wrapper.find('[data-testid=template-edit]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=kinds-save]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=kind-label]').attributes('disabled')).toBeDefined()
  })
})
