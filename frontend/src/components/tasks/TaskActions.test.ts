import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Task } from '@/api/client'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { memberMe, signedIn } from '@/test/session'
import { option } from '@/test/select'
import TaskActions from './TaskActions.vue'

const PROCESSES = [
  { id: '11', name: 'Sales check', groupId: '1', position: 1 },
  { id: '12', name: 'Feasibility', groupId: '2', position: 2 },
  { id: '13', name: 'Installation', groupId: '3', position: 3 },
]
const TASK: Task = {
  id: '9',
  number: 'T-000009',
  title: 'Connect C-000003',
  state: 'TASK_STATE_OPEN',
  currentProcess: PROCESSES[1],
  processes: PROCESSES,
  createdBy: '1',
}

const buttons = (w: ReturnType<typeof mountWith>['wrapper']) =>
  ['task-take', 'task-complete', 'task-return', 'task-assign', 'task-cancel'].filter((id) => w.find(`[data-testid=${id}]`).exists())

function dialog(): HTMLElement {
  return document.body.querySelector('[data-testid^=task-dialog-]') as HTMLElement
}

async function type(el: HTMLTextAreaElement | HTMLInputElement, value: string) {
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}

describe('the task’s commands', () => {
  it('offers a member of the current group everything but cancelling', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => memberMe(['2']) })
    const { wrapper } = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() })
    expect(buttons(wrapper)).toEqual(['task-take', 'task-complete', 'task-return', 'task-assign'])
    wrapper.unmount()
  })

  it('offers a member of another group nothing', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => memberMe(['1', '3']) })
    const { wrapper } = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() })
    expect(wrapper.find('[data-testid=task-actions]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('offers a viewer nothing, and a supervisor everything', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => VIEWER_ME })
    const viewer = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() }).wrapper
    expect(buttons(viewer)).toEqual([])
    viewer.unmount()
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const admin = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() }).wrapper
    expect(buttons(admin)).toEqual(['task-take', 'task-complete', 'task-return', 'task-assign', 'task-cancel'])
    admin.unmount()
  })

  it('completes the process the person saw, with the comment and a resolution the route knows, chosen in words', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => memberMe(['2']),
      'POST /api/v1/tasks/{id}:advance': () => ({ ...TASK, currentProcess: PROCESSES[2] }),
    })
    const route = {
      id: '1',
      closeRules: [{ kind: 'CLOSE_RULE_KIND_RESOLUTION' as const, processId: '0', resolution: 'not_feasible', outcome: 'TASK_STATE_CANCELLED' as const }],
    }
    const { wrapper } = mountWith(TaskActions, { props: { task: TASK, route }, pinia: await signedIn() })
    await wrapper.get('[data-testid=task-complete]').trigger('click')
    await vi.waitFor(() => expect(dialog()?.querySelector('[data-testid=task-resolution]')?.textContent).toContain('Done — on along the route'))
    expect(dialog().textContent).not.toContain('not_feasible')
    // the secondary button does not read as closing the task
    expect(dialog().querySelector('[data-testid=task-command-dismiss]')?.textContent?.trim()).toBe('Cancel')
    ;(dialog().querySelector('[data-testid=task-resolution]') as HTMLElement).click()
    ;(await option('Not feasible')).dispatchEvent(new MouseEvent('mousedown', { bubbles: true }))
    await vi.waitFor(() => expect(dialog().querySelector('[data-testid=task-resolution]')?.textContent).toContain('Not feasible'))
    await type(dialog().querySelector('[data-testid=task-command-text]')!, 'no FTTB in the building')
    dialog().querySelector('form')!.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(wrapper.emitted('changed')?.[0]?.[0]).toMatchObject({ currentProcess: { id: '13' } }))
    const call = calls.find((c) => c.path === '/api/v1/tasks/9:advance')
    expect(call?.body).toEqual({ processId: '12', comment: 'no FTTB in the building', resolution: 'not_feasible' })
    wrapper.unmount()
  })

  it('asks why before returning, to the previous process unless another is chosen', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => memberMe(['2']),
      'POST /api/v1/tasks/{id}:return': () => ({ ...TASK, currentProcess: PROCESSES[0] }),
    })
    const { wrapper } = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() })
    await wrapper.get('[data-testid=task-return]').trigger('click')
    await vi.waitFor(() => expect(dialog()?.querySelector('form')).toBeTruthy())
    dialog().querySelector('form')!.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(dialog().textContent).toContain('Say why the task goes back.'))
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    await type(dialog().querySelector('[data-testid=task-command-text]')!, 'the address is wrong')
    dialog().querySelector('form')!.dispatchEvent(new Event('submit'))
    await vi.waitFor(() =>
      expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ processId: '12', toProcessId: '11', comment: 'the address is wrong' }),
    )
    wrapper.unmount()
  })

  it('holds a cancel reason to its column’s 500 characters and a comment to 4000, with a counter', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const { wrapper } = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() })
    await wrapper.get('[data-testid=task-cancel]').trigger('click')
    const reason = await vi.waitFor(() => dialog()!.querySelector<HTMLTextAreaElement>('[data-testid=task-command-text]')!)
    expect(reason.maxLength).toBe(500)
    await type(reason, 'нет')
    expect(dialog().querySelector('[data-testid=char-count]')?.textContent?.trim()).toBe('3 / 500')
    wrapper.unmount()
    const again = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() })
    await again.wrapper.get('[data-testid=task-return]').trigger('click')
    await vi.waitFor(() => expect(dialog()?.querySelector<HTMLTextAreaElement>('[data-testid=task-command-text]')?.maxLength).toBe(4000))
    again.wrapper.unmount()
  })

  it('says so and asks for a reload when the task moved on meanwhile', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => memberMe(['2']),
      'POST /api/v1/tasks/{id}:assign': () => rpcError(409, 10, 'task T-000009 has moved on to "Installation" meanwhile; reload it', { reason: 'TASK_MOVED' }),
    })
    const { wrapper } = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() })
    await wrapper.get('[data-testid=task-take]').trigger('click')
    await vi.waitFor(() => expect(wrapper.emitted('refused')).toHaveLength(1))
    expect(wrapper.emitted('changed')).toBeUndefined()
    wrapper.unmount()
  })

  it('assigns to a member of the current group', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => memberMe(['2']),
      'GET /api/v1/groups/{id}/members': () => ({
        members: [
          { id: '7', login: 'ivan', displayName: 'Ivan' },
          { id: '8', login: 'olga', displayName: 'Olga' },
        ],
      }),
      'POST /api/v1/tasks/{id}:assign': () => ({ ...TASK, assigneeId: '8' }),
    })
    const { wrapper } = mountWith(TaskActions, { props: { task: TASK }, pinia: await signedIn() })
    await wrapper.get('[data-testid=task-assign]').trigger('click')
    await vi.waitFor(() => expect(calls.find((c) => c.path.endsWith('/members'))?.path).toBe('/api/v1/groups/2/members'))
    // The Select opens only once the members are read (it spins meanwhile).
    await vi.waitFor(() => expect(dialog().querySelector('[data-testid=task-assignee] [data-pc-section=loadingicon]')).toBeNull())
    ;(dialog().querySelector('[data-testid=task-assignee]') as HTMLElement).click()
    // The Select picks on mousedown.
    ;(await option('Olga')).dispatchEvent(new MouseEvent('mousedown', { bubbles: true }))
    await vi.waitFor(() => expect(dialog().querySelector('[data-testid=task-assignee]')?.textContent).toContain('Olga'))
    dialog().querySelector('form')!.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(calls.find((c) => c.path === '/api/v1/tasks/9:assign')?.body).toEqual({ processId: '12', userId: '8' }))
    wrapper.unmount()
  })

  it('opens an ended task again where it ended, or earlier, only with the reason', async () => {
    const ended: Task = { ...TASK, state: 'TASK_STATE_CLOSED', currentProcess: PROCESSES[2], reopenUntil: new Date(Date.now() + 86_400_000).toISOString() }
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => memberMe(['3']),
      'POST /api/v1/tasks/{id}:reopen': () => ({ ...ended, state: 'TASK_STATE_OPEN', currentProcess: PROCESSES[1] }),
    })
    const { wrapper } = mountWith(TaskActions, { props: { task: ended }, pinia: await signedIn() })
    expect(buttons(wrapper)).toEqual([])
    await wrapper.get('[data-testid=task-reopen]').trigger('click')
    await vi.waitFor(() => expect(dialog()?.querySelector('[data-testid=task-reopen-in]')?.textContent).toContain('3. Installation'))
    dialog().querySelector('form')!.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(dialog().textContent).toContain('Say why the task is opened again.'))
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    ;(dialog().querySelector('[data-testid=task-reopen-in]') as HTMLElement).click()
    ;(await option('Feasibility')).dispatchEvent(new MouseEvent('mousedown', { bubbles: true }))
    await type(dialog().querySelector('textarea')!, 'The customer called back: no signal again')
    dialog().querySelector('form')!.dispatchEvent(new Event('submit'))
    await vi.waitFor(() =>
      expect(calls.find((c) => c.path === '/api/v1/tasks/9:reopen')?.body).toEqual({ reason: 'The customer called back: no signal again', processId: '12' }),
    )
    await vi.waitFor(() => expect(wrapper.emitted('changed')).toHaveLength(1))
    wrapper.unmount()
  })

  it('offers no reopening once the period is over, nor to another group', async () => {
    const past: Task = { ...TASK, state: 'TASK_STATE_CLOSED', currentProcess: PROCESSES[2], reopenUntil: new Date(Date.now() - 1000).toISOString() }
    mockApi({ 'GET /api/v1/auth/me': () => memberMe(['3']) })
    const late = mountWith(TaskActions, { props: { task: past }, pinia: await signedIn() }).wrapper
    expect(late.find('[data-testid=task-reopen]').exists()).toBe(false)
    late.unmount()
    mockApi({ 'GET /api/v1/auth/me': () => memberMe(['1']) })
    const other = mountWith(TaskActions, {
      props: { task: { ...past, reopenUntil: new Date(Date.now() + 86_400_000).toISOString() } },
      pinia: await signedIn(),
    }).wrapper
    expect(other.find('[data-testid=task-reopen]').exists()).toBe(false)
    other.unmount()
  })
})
