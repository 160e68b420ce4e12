import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Webhook, WebhookDelivery } from '@/api/client'
import { useAuthStore } from '@/stores/auth'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { makeTestPinia, mountWith } from '@/test/mount'
import WebhooksView from './WebhooksView.vue'
import { asked } from '@/test/confirmYes'

vi.mock('primevue/useconfirm', () => import('@/test/confirmYes'))

const toasts = vi.hoisted(() => [] as { summary?: string }[])
vi.mock('primevue/usetoast', () => ({ useToast: () => ({ add: (m: { summary?: string }) => toasts.push(m) }) }))

const BILLING: Webhook = {
  id: '4',
  name: 'Billing',
  url: 'https://billing.example.ru/crm',
  eventKinds: ['WEBHOOK_EVENT_KIND_TASK_CLOSED', 'WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED'],
  enabled: true,
  lastDeliveryTime: new Date().toISOString(),
}
const DWH: Webhook = {
  id: '3',
  name: 'Warehouse',
  url: 'https://dwh.example.ru/in',
  eventKinds: ['WEBHOOK_EVENT_KIND_TASK_CREATED'],
  enabled: false,
  failures: 5,
  disabledReason: 'the webhook answered 503 Service Unavailable',
}

async function setup(hooks: Webhook[], routes: Parameters<typeof mockApi>[0] = {}) {
  const api = mockApi({
    'GET /api/v1/auth/me': () => ADMIN_ME,
    'GET /api/v1/webhooks': () => ({ webhooks: hooks }),
    ...routes,
  })
  const pinia = makeTestPinia()
  await useAuthStore().ensureMe()
  const { wrapper } = mountWith(WebhooksView, { pinia })
  await vi.waitFor(() => expect(wrapper.find('[data-testid=webhooks-table]').exists()).toBe(true))
  return { wrapper, ...api }
}

const body = (sel: string) => document.body.querySelector<HTMLInputElement>(sel)!

function type(sel: string, value: string): void {
  const el = body(sel)
  el.value = value
  el.dispatchEvent(new Event('input'))
}

describe('the webhooks screen', () => {
  it('lists the subscriptions in words and says which one the system switched off, and why', async () => {
    const { wrapper } = await setup([BILLING, DWH])
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=webhook-state]')).toHaveLength(2))
    expect(wrapper.findAll('[data-testid=webhook-state]').map((s) => s.text())).toEqual(['On', 'Switched off: failing'])
    expect(wrapper.text()).toContain('Task closed or cancelled')
    expect(wrapper.text()).toContain('Contract status changed')
    expect(wrapper.text()).not.toContain('WEBHOOK_EVENT_KIND')
    expect(wrapper.get('[data-testid=webhook-failing]').text()).toContain(
      '“Warehouse” was switched off after 5 failed deliveries in a row (the webhook answered 503',
    )
    wrapper.unmount()
  })

  it('subscribes and shows the signing secret once', async () => {
    const hooks: Webhook[] = []
    const { wrapper, calls } = await setup(hooks, {
      'POST /api/v1/webhooks': (req) => {
        hooks.unshift({ ...BILLING, ...(req.body as Webhook) })
        return { webhook: hooks[0], secret: 'whsec_0123456789abcdef' }
      },
    })
    await wrapper.get('[data-testid=webhook-new]').trigger('click')
    await vi.waitFor(() => expect(body('[data-testid=webhook-name]')).not.toBeNull())
    type('[data-testid=webhook-name]', 'Billing')
    type('[data-testid=webhook-url]', ' https://billing.example.ru/crm ')
    body('#webhook-kind-task_closed').click()
    await flushPromises()
    body('[data-testid=webhook-dialog] form').dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(body('[data-testid=webhook-secret]')?.value).toBe('whsec_0123456789abcdef'))
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'Billing',
      url: 'https://billing.example.ru/crm',
      eventKinds: ['WEBHOOK_EVENT_KIND_TASK_CLOSED'],
    })
    expect(document.body.textContent).toContain('X-CRM-Signature')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=webhook-state]')).toHaveLength(1))
    body('[data-testid=webhook-done]').click()
    await vi.waitFor(() => expect(document.body.querySelector('[data-testid=webhook-secret]')).toBeNull())
    wrapper.unmount()
  })

  it('refuses a subscription with no event before asking, and shows the server’s word on the address', async () => {
    const { wrapper, calls } = await setup([], {
      'POST /api/v1/webhooks': () => rpcError(400, 3, 'invalid', { fields: { 'webhook.url': 'the address points at 10.0.0.5, which is not on the internet' } }),
    })
    await wrapper.get('[data-testid=webhook-new]').trigger('click')
    await vi.waitFor(() => expect(body('[data-testid=webhook-name]')).not.toBeNull())
    type('[data-testid=webhook-name]', 'Inside')
    type('[data-testid=webhook-url]', 'http://10.0.0.5/hook')
    await flushPromises()
    body('[data-testid=webhook-dialog] form').dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(document.body.textContent).toContain('Pick at least one event.'))
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    body('#webhook-kind-task_created').click()
    await flushPromises()
    body('[data-testid=webhook-dialog] form').dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(document.body.textContent).toContain('which is not on the internet'))
    expect(body('[data-testid=webhook-secret]')).toBeNull()
    body('[data-testid=webhook-dialog] button[type=button]').click()
    wrapper.unmount()
  })

  it('switches a failing subscription on again and removes one once confirmed', async () => {
    const hooks = [DWH]
    const { wrapper, calls } = await setup(hooks, {
      'PUT /api/v1/webhooks/{id}': (req) => {
        hooks[0] = { ...DWH, ...(req.body as Webhook), failures: 0, disabledReason: '' }
        return hooks[0]
      },
      'DELETE /api/v1/webhooks/{id}': () => {
        hooks.pop()
        return {}
      },
    })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=webhook-edit]').exists()).toBe(true))
    await wrapper.get('[data-testid=webhook-edit]').trigger('click')
    await vi.waitFor(() => expect(body('[data-testid=webhook-enabled]')).not.toBeNull())
    expect(document.body.textContent).toContain('Switched off after 5 failed deliveries in a row')
    body('[data-testid=webhook-enabled] input').click()
    await flushPromises()
    body('[data-testid=webhook-dialog] form').dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(wrapper.get('[data-testid=webhook-state]').text()).toBe('On'))
    expect(calls.find((c) => c.method === 'PUT')?.body).toMatchObject({ name: 'Warehouse', enabled: true, eventKinds: ['WEBHOOK_EVENT_KIND_TASK_CREATED'] })
    expect(wrapper.find('[data-testid=webhook-failing]').exists()).toBe(false)

    await wrapper.get('[data-testid=webhook-delete]').trigger('click')
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/webhooks/3')).toBe(true))
    expect(asked.at(-1)?.message).toContain('Warehouse')
    await vi.waitFor(() => expect(wrapper.text()).toContain('No webhooks'))
    wrapper.unmount()
  })

  it('shows the delivery log, failed ones alone on request, older ones on demand', async () => {
    const page = (n: number, state: WebhookDelivery['state']): WebhookDelivery => ({
      id: String(n),
      webhookId: '4',
      eventId: `task-${n}/3`,
      eventKind: 'WEBHOOK_EVENT_KIND_TASK_CLOSED',
      state,
      attempts: state === 'WEBHOOK_DELIVERY_STATE_FAILED' ? 20 : 1,
      statusCode: state === 'WEBHOOK_DELIVERY_STATE_FAILED' ? 503 : 204,
      error: state === 'WEBHOOK_DELIVERY_STATE_FAILED' ? 'the webhook answered 503' : '',
      taskId: String(n),
      createTime: new Date().toISOString(),
    })
    const { wrapper, calls } = await setup([BILLING], {
      'GET /api/v1/webhooks/{webhook_id}/deliveries': (req) => {
        const q = req.query
        if (q.get('state') === 'WEBHOOK_DELIVERY_STATE_FAILED') return { deliveries: [page(7, 'WEBHOOK_DELIVERY_STATE_FAILED')] }
        if (q.get('pageToken') === 'next') return { deliveries: [page(5, 'WEBHOOK_DELIVERY_STATE_DELIVERED')] }
        return { deliveries: [page(9, 'WEBHOOK_DELIVERY_STATE_DELIVERED'), page(8, 'WEBHOOK_DELIVERY_STATE_PENDING')], nextPageToken: 'next' }
      },
    })
    await wrapper.get('[data-testid=webhook-log-open]').trigger('click')
    const states = () => [...document.body.querySelectorAll('[data-testid=delivery-state]')].map((e) => e.textContent)
    await vi.waitFor(() => expect(states()).toEqual(['Delivered', 'Under way']))
    body('[data-testid=webhook-log-more]').click()
    await vi.waitFor(() => expect(states()).toEqual(['Delivered', 'Under way', 'Delivered']))
    ;[...document.body.querySelectorAll<HTMLElement>('[data-testid=webhook-log-filter] [role=button], [data-testid=webhook-log-filter] button')]
      .find((b) => b.textContent?.includes('Failed'))!
      .click()
    await vi.waitFor(() => expect(states()).toEqual(['Failed']))
    expect(document.body.textContent).toContain('the webhook answered 503')
    expect(calls.filter((c) => c.path === '/api/v1/webhooks/4/deliveries')).toHaveLength(3)
    wrapper.unmount()
  })
})
