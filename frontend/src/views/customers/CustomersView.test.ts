import { describe, expect, it, vi } from 'vitest'
import { useAuthStore } from '@/stores/auth'
import { useCustomersStore } from '@/stores/customers'
import { ADMIN_ME, mockApi, VIEWER_ME } from '@/test/mockApi'
import { makeTestPinia, makeTestRouter, mountWith } from '@/test/mount'
import CustomersView from './CustomersView.vue'

const page = (from: number, n: number, next?: string) => ({
  customers: Array.from({ length: n }, (_, i) => ({
    id: String(from + i),
    name: `Customer ${from + i}`,
    phones: [{ id: `p${from + i}`, number: '+79123456789' }],
  })),
  nextPageToken: next,
})

async function setup(me: typeof ADMIN_ME, routes: Parameters<typeof mockApi>[0]) {
  localStorage.setItem('crm.session', JSON.stringify({ accessToken: 't', expiresAt: new Date(Date.now() + 3600_000).toISOString() }))
  const api = mockApi({ 'GET /api/v1/auth/me': () => me, ...routes })
  const pinia = makeTestPinia()
  await useAuthStore().ensureMe()
  const router = makeTestRouter()
  await router.push('/customers')
  const { wrapper } = mountWith(CustomersView, { pinia, router })
  await vi.waitFor(() => expect(useCustomersStore(pinia).results.loaded).toBe(true))
  return { wrapper, router, ...api }
}

describe('the customer search', () => {
  it('asks the server once the operator pauses typing, and keeps the query in the address', async () => {
    const { wrapper, calls, router } = await setup(ADMIN_ME, {
      'GET /api/v1/customers': (req) => (req.query.get('query') === '8912' ? page(1, 1) : page(1, 3)),
    })
    const searches = () => calls.filter((c) => c.path === '/api/v1/customers')
    expect(searches()).toHaveLength(1)

    vi.useFakeTimers()
    const input = wrapper.get('[data-testid=customer-search]')
    for (const v of ['8', '89', '891', '8912']) {
      await input.setValue(v)
      vi.advanceTimersByTime(100)
    }
    expect(searches()).toHaveLength(1)
    vi.advanceTimersByTime(300)
    vi.useRealTimers()
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=customer-link]')).toHaveLength(1))
    expect(searches()).toHaveLength(2)
    expect(searches()[1]?.query.get('query')).toBe('8912')
    expect(router.currentRoute.value.query.q).toBe('8912')
    wrapper.unmount()
  })

  it('loads the next page on demand', async () => {
    const { wrapper, calls } = await setup(ADMIN_ME, {
      'GET /api/v1/customers': (req) => (req.query.get('pageToken') ? page(21, 5) : page(1, 20, 'next')),
    })
    expect(wrapper.findAll('[data-testid=customer-link]')).toHaveLength(20)
    await wrapper.get('[data-testid=load-more]').trigger('click')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=customer-link]')).toHaveLength(25))
    expect(calls.at(-1)?.query.get('pageToken')).toBe('next')
    expect(wrapper.find('[data-testid=load-more]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('offers to register a customer when a phone finds nobody, but not to a viewer', async () => {
    const admin = await setup(ADMIN_ME, { 'GET /api/v1/customers': () => ({ customers: [] }) })
    await admin.wrapper.get('[data-testid=customer-search]').setValue('8 999 123')
    await admin.wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(admin.wrapper.text()).toContain('Nothing found for “8 999 123”'))
    const create = admin.wrapper.findAll('a').find((a) => a.text().includes('Register a new customer'))
    expect(create?.attributes('href')).toBe('/customers/new?phone=8+999+123')
    expect(admin.wrapper.find('[data-testid=customer-new]').exists()).toBe(true)
    admin.wrapper.unmount()

    const viewer = await setup(VIEWER_ME, { 'GET /api/v1/customers': () => ({ customers: [] }) })
    expect(viewer.wrapper.find('[data-testid=customer-new]').exists()).toBe(false)
    expect(viewer.wrapper.text()).not.toContain('Register')
    viewer.wrapper.unmount()
  })
})
