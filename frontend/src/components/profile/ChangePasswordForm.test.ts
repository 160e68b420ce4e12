import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { defineComponent } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { mountWith } from '@/test/mount'
import { useAuthStore } from '@/stores/auth'
import ChangePasswordForm from './ChangePasswordForm.vue'

async function fill(wrapper: ReturnType<typeof mountWith>['wrapper'], current: string, next: string, repeat = next) {
  await wrapper.get('#current-password').setValue(current)
  await wrapper.get('#new-password').setValue(next)
  await wrapper.get('#repeat-password').setValue(repeat)
  await wrapper.get('form').trigger('submit')
}

describe('the password form', () => {
  it('marks its password fields as plain inputs, not as popup buttons', () => {
    mockApi({})
    const { wrapper } = mountWith(ChangePasswordForm)
    for (const id of ['current-password', 'new-password', 'repeat-password']) {
      const input = wrapper.get(`#${id}`)
      expect(input.attributes('type')).toBe('password')
      expect(input.attributes('aria-expanded'), id).toBeUndefined()
      expect(input.attributes('aria-haspopup'), id).toBeUndefined()
    }
    expect(wrapper.get('#current-password').attributes('autocomplete')).toBe('current-password')
    wrapper.unmount()
  })

  it('changes the password and, when it was required, opens the console', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ({ ...ADMIN_ME, mustChangePassword: true }),
      'POST /api/v1/auth/password': () => ({}),
    })
    const Blank = defineComponent({ render: () => null })
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/', name: 'home', component: Blank },
        { path: '/profile', name: 'profile', component: Blank },
      ],
    })
    await router.push('/profile')
    const { wrapper, pinia } = mountWith(ChangePasswordForm, { router })
    const auth = useAuthStore(pinia)
    auth.token = 'tok'
    await auth.loadMe()
    await vi.waitFor(() => expect(wrapper.find('[data-testid=password-must-change]').exists()).toBe(true))
    await fill(wrapper, 'set-for-me-0001', 'only-i-know-this')
    await vi.waitFor(() => expect(auth.mustChangePassword).toBe(false))
    expect(calls.find((c) => c.path === '/api/v1/auth/password')?.body).toEqual({ currentPassword: 'set-for-me-0001', newPassword: 'only-i-know-this' })
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('home'))
    wrapper.unmount()
  })

  it('shows the server saying the current password is wrong on that field', async () => {
    mockApi({
      'POST /api/v1/auth/password': () => rpcError(400, 3, 'the current password is wrong', { fields: { currentPassword: 'the current password is wrong' } }),
    })
    const { wrapper } = mountWith(ChangePasswordForm)
    await fill(wrapper, 'not-it', 'only-i-know-this')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=field-error]').text()).toBe('the current password is wrong'))
    wrapper.unmount()
  })

  it('checks length and the repeat before calling the server', async () => {
    const { calls } = mockApi({})
    const { wrapper } = mountWith(ChangePasswordForm)
    await fill(wrapper, 'current-one-0001', 'short')
    await vi.waitFor(() => expect(wrapper.text()).toContain('At least 12 characters.'))
    await fill(wrapper, 'current-one-0001', 'only-i-know-this', 'only-i-know-that')
    await vi.waitFor(() => expect(wrapper.text()).toContain('The two new passwords differ.'))
    expect(calls).toHaveLength(0)
    wrapper.unmount()
  })
})
