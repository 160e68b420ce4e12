import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { makeTestRouter, mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import NewConnectionView from './NewConnectionView.vue'

const IVAN = { id: '5', name: 'Ivan Petrov', kind: 'CUSTOMER_KIND_PERSON', address: 'Moscow, Arbat 10', phones: [{ id: '50', number: '+79123456789' }] }
const TARIFFS = [
  { id: '4', name: 'Home DSL 20', technology: 'XDSL', speedMbps: 20, monthlyFee: { amountMinor: '35000', currency: 'RUB' }, active: true },
  { id: '1', name: 'Home 100', technology: 'FTTB', speedMbps: 100, monthlyFee: { amountMinor: '50000', currency: 'RUB' }, active: true },
]
const DONE = {
  customer: IVAN,
  contract: { id: '3', number: 'C-000003', status: 'CONTRACT_STATUS_PENDING', address: 'Moscow, Arbat 10' },
  task: { id: '9', number: 'T-000009', state: 'TASK_STATE_OPEN', currentProcess: { id: '1', name: 'Sales check' } },
}

async function open(path: string) {
  const pinia = await signedIn()
  const router = makeTestRouter()
  await router.push(path)
  await router.isReady()
  const { wrapper } = mountWith(NewConnectionView, { pinia, router })
  // A customer named in the address is read before the wizard starts.
  if (path.includes('customer=')) await vi.waitFor(() => expect(wrapper.find('[data-testid=wizard-chosen-customer]').exists()).toBe(true))
  else await flushPromises()
  return wrapper
}

const step = (w: Awaited<ReturnType<typeof open>>) => w.get('[data-testid=wizard-body]').attributes('data-step')
/** Presses Next and waits for the wizard to reach the step `to`. */
async function next(w: Awaited<ReturnType<typeof open>>, to: string) {
  await w.get('[data-testid=wizard-next]').trigger('click')
  await vi.waitFor(() => expect(step(w)).toBe(to))
}

describe('the new-connection wizard', () => {
  it('connects a registered customer on the best tariff at their address', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}': () => IVAN,
      'GET /api/v1/tariffs:suggest': () => ({ tariffs: TARIFFS }),
      'POST /api/v1/connections': () => DONE,
    })
    const w = await open('/connections/new?customer=5')
    expect(w.get('[data-testid=wizard-chosen-customer]').text()).toContain('Ivan Petrov')
    await next(w, 'requirements')
    await next(w, 'tariff')
    await vi.waitFor(() => expect(w.findAll('[data-testid=wizard-tariff] input[type=radio]')).toHaveLength(2))
    const suggest = calls.find((c) => c.path === '/api/v1/tariffs:suggest')
    expect(suggest?.query.get('customerKind')).toBe('CUSTOMER_KIND_PERSON')
    const radios = w.findAll<HTMLInputElement>('[data-testid=wizard-tariff] input[type=radio]')
    expect(radios.map((r) => r.element.checked)).toEqual([true, false])
    await radios[1]!.setValue(true)
    await next(w, 'address')
    expect((w.get('[data-testid=wizard-address-input]').element as HTMLTextAreaElement).value).toBe('Moscow, Arbat 10')
    await next(w, 'confirm')
    expect(w.get('[data-testid=wizard-confirm]').text()).toContain('Home 100')
    await w.get('[data-testid=wizard-submit]').trigger('click')
    await vi.waitFor(() => expect(w.get('[data-testid=wizard-contract-number]').text()).toBe('C-000003'))
    expect(calls.find((c) => c.path === '/api/v1/connections')?.body).toEqual({ customerId: '5', tariffId: '1', address: 'Moscow, Arbat 10' })
    expect(w.get('[data-testid=wizard-task-number]').text()).toBe('T-000009')
    expect(w.get('[data-testid=wizard-task-link]').attributes('href')).toBe('/tasks/9')
    w.unmount()
  })

  it('will not go on without a customer, and checks a new one’s form first', async () => {
    const { calls } = mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const w = await open('/connections/new')
    await next(w, 'customer')
    await vi.waitFor(() => expect(w.text()).toContain('Fill this in.'))
    expect(step(w)).toBe('customer')
    await w.get('[data-testid=customer-name]').setValue('Olga')
    await w.get('[data-testid=phone-number]').setValue('8 912 000-11-22')
    await next(w, 'requirements')
    expect(calls.filter((c) => c.method !== 'GET')).toEqual([])
    w.unmount()
  })

  it('offers to relax the requirements when no tariff fits', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}': () => IVAN,
      'GET /api/v1/tariffs:suggest': () => ({ tariffs: [] }),
    })
    const w = await open('/connections/new?customer=5')
    await next(w, 'requirements')
    await next(w, 'tariff')
    await vi.waitFor(() => expect(w.text()).toContain('No tariff fits these requirements'))
    expect(w.get('[data-testid=wizard-next]').attributes('disabled')).toBeDefined()
    w.unmount()
  })

  it('sends a refused address back to the address step, at the field', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/customers/{id}': () => IVAN,
      'GET /api/v1/tariffs:suggest': () => ({ tariffs: TARIFFS }),
      'POST /api/v1/connections': () =>
        rpcError(400, 3, 'the address is 600 characters long; at most 500', { fields: { address: 'the address is 600 characters long; at most 500' } }),
    })
    const w = await open('/connections/new?customer=5')
    await next(w, 'requirements')
    await next(w, 'tariff')
    // Next waits for a tariff, which the best suggestion becomes once read.
    await vi.waitFor(() => expect(w.get('[data-testid=wizard-next]').attributes('disabled')).toBeUndefined())
    await next(w, 'address')
    await next(w, 'confirm')
    await w.get('[data-testid=wizard-submit]').trigger('click')
    await vi.waitFor(() => expect(step(w)).toBe('address'))
    expect(w.get('[data-testid=wizard-refusal]').text()).toContain('The connection was not made')
    expect(w.get('[data-testid=wizard-address]').text()).toContain('at most 500')
    w.unmount()
  })
})
