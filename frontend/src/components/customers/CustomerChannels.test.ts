import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import CustomerChannels from './CustomerChannels.vue'

const CHANNELS = { telegramLinked: true, telegramLinkTime: '2026-11-20T10:00:00Z', smsNumber: '+79123456789', smsOptOut: false, telegramOptOut: true }

describe('the customer’s channels', () => {
  it('saves “No SMS” with both opt-outs and shows what the server answered', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}/channels': () => CHANNELS,
      'PUT /api/v1/customers/{id}/channels': (req) => ({ ...CHANNELS, ...(req.body as object) }),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerChannels, { props: { customerId: '5', canWrite: true }, pinia })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=channels-sms-opt-out] input').exists()).toBe(true))
    expect(wrapper.get('[data-testid=channels-telegram]').text()).toContain('Linked')
    expect(wrapper.get('[data-testid=channels-sms]').text()).toContain('912')

    await wrapper.get('[data-testid=channels-sms-opt-out] input').setValue(true)
    await vi.waitFor(() => expect(calls.find((c) => c.method === 'PUT')).toBeDefined())
    const put = calls.find((c) => c.method === 'PUT')
    expect(put?.path).toBe('/api/v1/customers/5/channels')
    expect(put?.body).toEqual({ smsOptOut: true, telegramOptOut: true })
    await vi.waitFor(() => expect((wrapper.get('[data-testid=channels-sms-opt-out] input').element as HTMLInputElement).checked).toBe(true))
    wrapper.unmount()
  })

  it('keeps the switch as it was when the server refuses', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}/channels': () => CHANNELS,
      'PUT /api/v1/customers/{id}/channels': () => rpcError(403, 7, 'permission denied'),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerChannels, { props: { customerId: '5', canWrite: true }, pinia })
    const input = () => wrapper.get('[data-testid=channels-telegram-opt-out] input').element as HTMLInputElement
    await vi.waitFor(() => expect(wrapper.find('[data-testid=channels-telegram-opt-out] input').exists()).toBe(true))
    await wrapper.get('[data-testid=channels-telegram-opt-out] input').setValue(false)
    expect(input().checked).toBe(false)
    await vi.waitFor(() => expect(input().checked).toBe(true))
    expect(input().disabled).toBe(false)
    wrapper.unmount()
  })

  it('shows a reader the opt-outs without a way to change them', async () => {
    const { calls } = mockApi({ 'GET /api/v1/auth/me': () => VIEWER_ME, 'GET /api/v1/customers/{id}/channels': () => ({ smsOptOut: true }) })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerChannels, { props: { customerId: '5', canWrite: false }, pinia })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=channels-sms-opt-out] input').exists()).toBe(true))
    expect(wrapper.get('[data-testid=channels-telegram]').text()).toContain('No chat linked')
    expect((wrapper.get('[data-testid=channels-sms-opt-out] input').element as HTMLInputElement).disabled).toBe(true)
    expect((wrapper.get('[data-testid=channels-telegram-opt-out] input').element as HTMLInputElement).disabled).toBe(true)
    expect(calls.some((c) => c.method === 'PUT')).toBe(false)
    wrapper.unmount()
  })
})
