import { describe, expect, it, vi } from 'vitest'
import { useAuthStore } from '@/stores/auth'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { makeTestPinia, mountWith } from '@/test/mount'
import CustomerDetailView from './CustomerDetailView.vue'

const IVAN = {
  id: '5',
  name: 'Ivan Petrov',
  kind: 'CUSTOMER_KIND_PERSON',
  email: 'ivan@example.com',
  etag: '3',
  phones: [
    { id: '50', number: '+79123456789', label: 'mobile' },
    { id: '51', number: '+79001112233', label: 'home' },
  ],
}

async function signedIn() {
  localStorage.setItem('crm.session', JSON.stringify({ accessToken: 't', expiresAt: new Date(Date.now() + 3600_000).toISOString() }))
  const pinia = makeTestPinia()
  await useAuthStore().ensureMe()
  return pinia
}

describe('the customer screen', () => {
  it('shows a viewer the customer without any way to change it', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => VIEWER_ME, 'GET /api/v1/customers/{id}': () => IVAN })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerDetailView, { props: { id: '5' }, pinia })
    await vi.waitFor(() => expect(wrapper.text()).toContain('Ivan Petrov'))
    expect(wrapper.findAll('[data-testid=phone-item]')).toHaveLength(2)
    expect(wrapper.find('[data-testid=customer-edit]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=phone-remove]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=phone-add-form]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('after a stale edit, says so and shows the other person’s version', async () => {
    let reads = 0
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}': () => (++reads === 1 ? IVAN : { ...IVAN, name: 'Ivan Sidorov', etag: '4' }),
      'PATCH /api/v1/customers/{id}': () =>
        rpcError(409, 10, 'customer 5 was changed by someone else meanwhile; reload it and try again', { reason: 'STALE_ETAG' }),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerDetailView, { props: { id: '5' }, pinia })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=customer-edit]').exists()).toBe(true))
    await wrapper.get('[data-testid=customer-edit]').trigger('click')
    await wrapper.get('[data-testid=customer-name]').setValue('Ivan Petrov-Vodkin')
    await wrapper.get('[data-testid=customer-form]').trigger('submit')
    await vi.waitFor(() => expect((wrapper.get('[data-testid=customer-name]').element as HTMLInputElement).value).toBe('Ivan Sidorov'))

    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.body).toMatchObject({ etag: '3', name: 'Ivan Petrov-Vodkin' })
    expect(patch?.query.get('updateMask')).toBe('name')
    expect(wrapper.get('[data-testid=stale-notice]').text()).toContain('Someone else changed this customer')
    expect((wrapper.get('[data-testid=customer-name]').element as HTMLInputElement).value).toBe('Ivan Sidorov')
    wrapper.unmount()
  })

  it('adds a phone and shows a taken number at the field with the holder', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}': () => IVAN,
      'POST /api/v1/customers/{id}/phones': () =>
        rpcError(409, 6, 'the number +79990001122 is taken by customer 8', {
          fields: { number: 'the number +79990001122 is taken by customer 8' },
          reason: 'PHONE_TAKEN',
          metadata: { customerId: '8', number: '+79990001122' },
        }),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerDetailView, { props: { id: '5' }, pinia })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=new-phone-number]').exists()).toBe(true))
    await wrapper.get('[data-testid=new-phone-number]').setValue('8 999 000-11-22')
    await wrapper.get('[data-testid=phone-add-form]').trigger('submit')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=phone-add-form] [data-testid=field-error]').text()).toContain('taken by customer #8'))
    const err = wrapper.get('[data-testid=phone-add-form] [data-testid=field-error]')
    expect(err.get('a').attributes('href')).toBe('/customers/8')
    wrapper.unmount()
  })

  it('lists the customer’s contracts with their tariff, and the customer’s tasks', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}': () => IVAN,
      'GET /api/v1/contracts': () => ({
        contracts: [{ id: '3', number: 'C-000003', status: 'CONTRACT_STATUS_ACTIVE', tariffId: '1', address: 'Moscow, Arbat 10' }],
      }),
      'GET /api/v1/tariffs/{id}': () => ({
        id: '1',
        name: 'Home 100',
        technology: 'FTTB',
        speedMbps: 100,
        monthlyFee: { amountMinor: '50000', currency: 'RUB' },
      }),
      'GET /api/v1/tasks': () => ({
        tasks: [{ id: '9', number: 'T-000009', title: 'Connect C-000003', state: 'TASK_STATE_CLOSED', contractId: '3', contractNumber: 'C-000003' }],
      }),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerDetailView, { props: { id: '5' }, pinia })
    await vi.waitFor(() => {
      expect(wrapper.get('[data-testid=contracts-panel]').text()).toContain('Home 100')
      expect(wrapper.find('[data-testid=tasks-panel] [data-testid=task-link]').exists()).toBe(true)
    })
    expect(calls.find((c) => c.path === '/api/v1/contracts')?.query.get('customerId')).toBe('5')
    expect(calls.find((c) => c.path === '/api/v1/tasks')?.query.get('customerId')).toBe('5')
    const contracts = wrapper.get('[data-testid=contracts-panel]')
    expect(contracts.get('[data-testid=contract-link]').attributes('href')).toBe('/contracts/3')
    expect(contracts.text()).toContain('Active')
    expect(contracts.text()).toContain('Home 100')
    expect(contracts.text()).toContain('Moscow, Arbat 10')
    expect(wrapper.get('[data-testid=tasks-panel] [data-testid=task-link]').attributes('href')).toBe('/tasks/9')
    expect(wrapper.get('[data-testid=customer-connect]').attributes('href')).toBe('/connections/new?customer=5')
    wrapper.unmount()
  })

  it('shows how the customer is reached and the messages sent to them', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => VIEWER_ME,
      'GET /api/v1/customers/{id}': () => IVAN,
      'GET /api/v1/customers/{id}/channels': () => ({ telegramLinked: false, smsNumber: '+79123456789', smsOptOut: false, telegramOptOut: false }),
      'GET /api/v1/customers/{id}/messages': () => ({
        messages: [{ id: '1', channel: 'CUSTOMER_CHANNEL_SMS', milestone: 'connected', text: 'Connected', state: 'sent', taskId: '9' }],
      }),
    })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerDetailView, { props: { id: '5' }, pinia })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=message-item]')).toHaveLength(1))
    await vi.waitFor(() => expect(wrapper.get('[data-testid=channels-panel]').text()).toContain('No chat linked'))
    expect((wrapper.get('[data-testid=channels-sms-opt-out] input').element as HTMLInputElement).disabled).toBe(true)
    expect(wrapper.get('[data-testid=message-item]').text()).toContain('Sent')
    wrapper.unmount()
  })

  it('tells a missing customer apart from a failure', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME, 'GET /api/v1/customers/{id}': () => rpcError(404, 5, 'customer 77 does not exist') })
    const pinia = await signedIn()
    const { wrapper } = mountWith(CustomerDetailView, { props: { id: '77' }, pinia })
    await vi.waitFor(() => expect(wrapper.text()).toContain('Customer not found'))
    expect(wrapper.find('[data-testid=load-error]').exists()).toBe(false)
    wrapper.unmount()
  })
})
