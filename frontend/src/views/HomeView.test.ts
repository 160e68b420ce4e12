import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, VIEWER_ME } from '@/test/mockApi'
import { makeTestRouter, mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import { useNotificationsStore } from '@/stores/notifications'
import HomeView from './HomeView.vue'

async function home(me: typeof ADMIN_ME, botEnabled: boolean) {
  const api = mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/tasks:stats': () => ({ myTasks: '0', openTasks: '3', breachedTasks: '1', processes: [] }),
    'GET /api/v1/tasks': () => ({ tasks: [] }),
    'GET /api/v1/notifications:stats': () => ({ botEnabled, pendingMessages: '0' }),
  })
  const pinia = await signedIn()
  const router = makeTestRouter()
  await router.push('/')
  await router.isReady()
  const { wrapper } = mountWith(HomeView, { pinia, router })
  // Every part is drawn, the counters have their figures, and a supervisor's delivery figures are read.
  await vi.waitFor(() => {
    expect(wrapper.get('[data-testid=home]').attributes('aria-busy')).toBe('false')
    expect(wrapper.find('[data-testid=home-counters] .counter__value').exists()).toBe(true)
    if (me.permissions.includes('tasks.manage')) expect(useNotificationsStore(pinia).loaded).toBe(true)
  })
  return { wrapper, router, api }
}

describe('the home page', () => {
  it('puts search and shortcuts before the dashboard', async () => {
    const { wrapper } = await home(ADMIN_ME, true)
    const html = wrapper.html()
    const at = (id: string) => html.indexOf(`data-testid="${id}"`)
    expect(at('home-search')).toBeGreaterThan(-1)
    expect(at('home-search')).toBeLessThan(at('home-counters'))
    expect(at('shortcut-customers')).toBeLessThan(at('home-counters'))
    expect(at('home-notifications')).toBeGreaterThan(at('home-counters'))
    wrapper.unmount()
  })

  it('shows the Telegram health to a supervisor only while the bot is on', async () => {
    const off = await home(ADMIN_ME, false)
    expect(off.wrapper.find('[data-testid=home-notifications]').exists()).toBe(false)
    off.wrapper.unmount()
    const on = await home(ADMIN_ME, true)
    expect(on.wrapper.find('[data-testid=home-notifications]').exists()).toBe(true)
    on.wrapper.unmount()
  })

  it('tells a viewer nothing about taking tasks, and shows no Telegram health', async () => {
    const { wrapper, api } = await home(VIEWER_ME, true)
    expect(wrapper.find('[data-testid=home-my-tasks]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=counter-mine]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=home-notifications]').exists()).toBe(false)
    expect(wrapper.text()).not.toMatch(/take a task|Возьмите задачу/i)
    expect(api.calls.some((c) => c.path === '/api/v1/notifications:stats')).toBe(false)
    wrapper.unmount()
  })

  it('searches tasks from the same box', async () => {
    const { wrapper, router } = await home(VIEWER_ME, false)
    const push = vi.spyOn(router, 'push')
    await wrapper.get('[data-testid=home-search]').setValue('T-000005')
    await wrapper.get('[data-testid=home-search-tasks]').trigger('click')
    expect(push).toHaveBeenCalledWith({ name: 'tasks', query: { queue: 'all', state: 'any', q: 'T-000005' } })
    wrapper.unmount()
  })
})
