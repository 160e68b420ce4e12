import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { useAuthStore } from '@/stores/auth'
import { ADMIN_ME, mockApi } from '@/test/mockApi'
import { decide } from './guard'
import { followSession } from './index'

describe('following the session', () => {
  it('sends the user to the password form when the server starts asking for a new password', async () => {
    setActivePinia(createPinia())
    localStorage.setItem('crm.session', JSON.stringify({ accessToken: 'tok', expiresAt: new Date(Date.now() + 3600_000).toISOString() }))
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME, 'GET /api/v1/customers': () => ({ customers: [] }) })
    const Blank = { render: () => null }
    const routes = [
      { path: '/customers', name: 'customers', component: Blank },
      { path: '/profile', name: 'profile', component: Blank },
    ]
    const router = createRouter({ history: createMemoryHistory(), routes })
    router.beforeEach((to) => decide(to, useAuthStore()))
    followSession(router)
    await router.push('/customers')
    expect(router.currentRoute.value.name).toBe('customers')

    useAuthStore().passwordChangeRequired()
    await flushPromises()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('profile'))
    expect(router.currentRoute.value.hash).toBe('#password')
  })
})
