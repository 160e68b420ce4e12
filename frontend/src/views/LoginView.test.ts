import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { defineComponent } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { makeTestRouter, mountWith } from '@/test/mount'
import LoginView from './LoginView.vue'

describe('the login screen', () => {
  it('signs in and goes where the user was heading', async () => {
    const { calls } = mockApi({
      'POST /api/v1/auth/login': () => ({ accessToken: 'tok', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
      'GET /api/v1/auth/me': () => ADMIN_ME,
    })
    const Blank = defineComponent({ render: () => null })
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/login', name: 'login', component: LoginView },
        { path: '/', name: 'home', component: Blank },
        { path: '/customers/:id', name: 'customer', component: Blank },
      ],
    })
    await router.push('/login?redirect=/customers/5')
    const { wrapper } = mountWith(LoginView, { router })
    await wrapper.get('[data-testid=login-name]').setValue(' admin ')
    await wrapper.get('#password').setValue('secret')
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/customers/5'))
    expect(calls[0]?.body).toEqual({ login: 'admin', password: 'secret' })
    wrapper.unmount()
  })

  it('says the credentials are wrong and clears the password', async () => {
    mockApi({ 'POST /api/v1/auth/login': () => rpcError(401, 16, 'wrong login or password') })
    const router = makeTestRouter()
    await router.push('/login')
    const { wrapper } = mountWith(LoginView, { router })
    await wrapper.get('[data-testid=login-name]').setValue('admin')
    await wrapper.get('#password').setValue('nope')
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=login-error]').text()).toBe('Wrong login or password.'))
    expect((wrapper.get('#password').element as HTMLInputElement).value).toBe('')
    expect(router.currentRoute.value.name).toBe('login')
    wrapper.unmount()
  })

  it('marks the password field as a plain input, not as a popup button', async () => {
    mockApi({})
    const router = makeTestRouter()
    await router.push('/login')
    const { wrapper } = mountWith(LoginView, { router })
    const input = wrapper.get('#password')
    expect(input.attributes('aria-expanded')).toBeUndefined()
    expect(input.attributes('aria-haspopup')).toBeUndefined()
    expect(input.attributes('autocomplete')).toBe('current-password')
    wrapper.unmount()
  })

  it('asks for what is missing without calling the server', async () => {
    const { calls } = mockApi({})
    const router = makeTestRouter()
    await router.push('/login')
    const { wrapper } = mountWith(LoginView, { router })
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('login'))
    expect(calls).toHaveLength(0)
    expect(wrapper.text()).toContain('Fill this in.')
    wrapper.unmount()
  })
})
