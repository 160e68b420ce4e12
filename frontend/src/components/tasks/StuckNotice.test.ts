import { describe, expect, it, vi } from 'vitest'
import type { Task } from '@/api/client'
import * as tasksApi from '@/api/tasks'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { makeTestPinia, mountWith } from '@/test/mount'
import { memberMe, signedIn } from '@/test/session'
import { describeTaskError, shouldReload } from './taskErrors'
import StuckBadge from './StuckBadge.vue'
import StuckNotice from './StuckNotice.vue'

const STUCK: Task = {
  id: '12',
  number: 'T-000012',
  state: 'TASK_STATE_OPEN',
  stuck: true,
  stuckReason: 'Unavailable: connection refused',
  stuckSince: '2026-12-02T08:00:00Z',
}

describe('a stuck task', () => {
  it('wears a badge that says why, and a task that is not stuck wears none', () => {
    const { wrapper } = mountWith(StuckBadge, { props: { task: STUCK } })
    expect(wrapper.get('[data-testid=task-stuck]').attributes('title')).toBe('Unavailable: connection refused')
    wrapper.unmount()
    const fine = mountWith(StuckBadge, { props: { task: { ...STUCK, stuck: false } } })
    expect(fine.wrapper.find('[data-testid=task-stuck]').exists()).toBe(false)
    fine.wrapper.unmount()
  })

  it('lets a supervisor retry it and hands back the task as it then stands', async () => {
    const api = mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME, 'POST /api/v1/tasks/{id}:retry': () => ({ ...STUCK, stuck: false }) })
    const { wrapper } = mountWith(StuckNotice, { props: { task: STUCK }, pinia: await signedIn() })
    expect(wrapper.get('[data-testid=stuck-reason]').text()).toBe('Unavailable: connection refused')
    await wrapper.get('[data-testid=stuck-retry]').trigger('click')
    await vi.waitFor(() => expect(wrapper.emitted('changed')?.[0]?.[0]).toMatchObject({ stuck: false }))
    expect(api.calls.some((c) => c.path === '/api/v1/tasks/12:retry')).toBe(true)
    wrapper.unmount()
  })

  it('shows a member what is wrong but offers no retry', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => memberMe(['2']) })
    const { wrapper } = mountWith(StuckNotice, { props: { task: STUCK }, pinia: await signedIn() })
    expect(wrapper.find('[data-testid=stuck-notice]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=stuck-retry]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('turns a command refused as stuck into its own message and a reload', async () => {
    const msg = 'task T-000012 is stuck: its last step could not be written; an engineer has been told'
    mockApi({ 'POST /api/v1/tasks/{id}:advance': () => rpcError(503, 14, msg, { reason: 'TASK_STUCK' }) })
    makeTestPinia()
    const e = await tasksApi.advance(STUCK).catch((err: unknown) => err)
    expect(shouldReload(e)).toBe(true)
    expect(describeTaskError(e, (k) => k)).toEqual({ summary: 'tasks.errors.stuck', detail: msg })
  })
})
