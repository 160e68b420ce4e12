import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import CustomerMessages from './CustomerMessages.vue'

const FIRST = [
  {
    id: '3',
    channel: 'CUSTOMER_CHANNEL_SMS',
    milestone: 'visit_booked',
    taskId: '9',
    text: 'Visit on 4 Dec, 10:00–12:00',
    address: '+79123456789',
    state: 'pending',
    reason: 'quiet hours',
    nextAttemptTime: '2026-12-04T06:00:00Z',
    createTime: '2026-12-03T19:00:00Z',
  },
  {
    id: '2',
    channel: 'CUSTOMER_CHANNEL_TELEGRAM',
    milestone: 'contract_opened',
    taskId: '0',
    text: 'Contract C-000003 opened',
    address: 'telegram',
    state: 'delivered',
    createTime: '2026-12-01T10:00:00Z',
  },
]
const SECOND = [{ id: '1', channel: 'CUSTOMER_CHANNEL_SMS', milestone: 'request_received', text: 'Request T-1', state: 'failed', reason: '207 no route' }]

describe('the customer’s messages', () => {
  it('shows each message’s milestone, state, hold and task, and loads the older ones on demand', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}/messages': (req) => (req.query.get('pageToken') === 'p2' ? { messages: SECOND } : { messages: FIRST, nextPageToken: 'p2' }),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerMessages, { props: { customerId: '5' }, pinia })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=message-item]')).toHaveLength(2))
    const [held, delivered] = wrapper.findAll('[data-testid=message-item]')
    expect(held!.text()).toContain('Visit booked')
    expect(held!.get('[data-testid=message-state]').text()).toBe('Waiting')
    expect(held!.get('[data-testid=message-held]').text()).toMatch(/^held until \d/)
    expect(held!.get('[data-testid=message-task]').attributes('href')).toBe('/tasks/9')
    expect(delivered!.text()).toContain('Contract opened')
    expect(delivered!.text()).toContain('Telegram')
    expect(delivered!.get('[data-testid=message-state]').text()).toBe('Delivered')
    expect(delivered!.find('[data-testid=message-task]').exists()).toBe(false)
    expect(calls[calls.length - 1]!.query.get('pageSize')).toBe('20')

    await wrapper.get('[data-testid=messages-more]').trigger('click')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=message-item]')).toHaveLength(3))
    const failed = wrapper.findAll('[data-testid=message-item]')[2]!
    expect(failed.get('[data-testid=message-state]').text()).toBe('Failed')
    expect(failed.get('[data-testid=message-reason]').text()).toBe('207 no route')
    expect(wrapper.find('[data-testid=messages-more]').exists()).toBe(false)
    wrapper.unmount()
  })
})
