import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Route, Task } from '@/api/client'
import { ADMIN_ME, mockApi, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { memberMe, signedIn } from '@/test/session'
import KanbanBoard from './KanbanBoard.vue'

const ROUTE: Route = {
  id: '1',
  name: 'New connection',
  processes: [
    { id: '11', name: 'Sales check', groupId: '1', position: 1 },
    { id: '12', name: 'Feasibility', groupId: '2', position: 2 },
    { id: '13', name: 'Installation', groupId: '3', position: 3 },
  ],
}
const task = (id: string, p: number): Task => ({
  id,
  number: `T-00000${id}`,
  title: `Connect ${id}`,
  routeId: '1',
  state: 'TASK_STATE_OPEN',
  currentProcess: ROUTE.processes![p - 1],
})
const TASKS = [task('1', 1), task('2', 2), task('3', 3)]

const card = (w: ReturnType<typeof mountWith>['wrapper'], id: string) => w.get(`[data-testid=board-card][data-task="${id}"]`)
const column = (w: ReturnType<typeof mountWith>['wrapper'], pid: string) => w.get(`[data-testid=board-column][data-process="${pid}"]`)
const dialog = () => document.body.querySelector<HTMLElement>('[data-testid^=task-dialog-]')

async function submitDialog(comment?: string) {
  const d = dialog()!
  if (comment !== undefined) {
    const text = d.querySelector<HTMLTextAreaElement>('[data-testid=task-command-text]')!
    text.value = comment
    text.dispatchEvent(new Event('input'))
    await flushPromises()
  }
  d.querySelector('form')!.dispatchEvent(new Event('submit'))
}

describe('the board', () => {
  it('shows a column per process with the count of its cards', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const { wrapper } = mountWith(KanbanBoard, { props: { route: ROUTE, tasks: TASKS }, pinia: await signedIn() })
    expect(wrapper.findAll('[data-testid=board-column]').map((c) => c.attributes('data-process'))).toEqual(['11', '12', '13'])
    expect(wrapper.findAll('[data-testid=column-count]').map((c) => c.text())).toEqual(['1', '1', '1'])
    wrapper.unmount()
  })

  it('completes a process when its card is dropped on the next column', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => memberMe(['1']),
      'POST /api/v1/tasks/{id}:advance': () => task('1', 2),
    })
    const { wrapper } = mountWith(KanbanBoard, { props: { route: ROUTE, tasks: TASKS }, pinia: await signedIn() })
    await card(wrapper, '1').trigger('dragstart')
    await column(wrapper, '12').trigger('dragover')
    expect(column(wrapper, '12').classes()).toContain('board__column--over')
    await column(wrapper, '12').trigger('drop')
    await vi.waitFor(() => expect(dialog()?.dataset.testid).toBe('task-dialog-complete'))
    await submitDialog('customer confirmed')
    await vi.waitFor(() => expect(wrapper.emitted('changed')?.[0]?.[0]).toMatchObject({ id: '1', currentProcess: { id: '12' } }))
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ path: '/api/v1/tasks/1:advance', body: { processId: '11', comment: 'customer confirmed' } })
    wrapper.unmount()
  })

  it('moves a card from the keyboard: → completes, ← returns one process with a reason', async () => {
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'POST /api/v1/tasks/{id}:advance': () => task('2', 3),
      'POST /api/v1/tasks/{id}:return': () => task('3', 2),
    })
    const { wrapper } = mountWith(KanbanBoard, { props: { route: ROUTE, tasks: TASKS }, pinia: await signedIn() })
    await card(wrapper, '2').trigger('keydown', { key: 'ArrowRight' })
    await vi.waitFor(() => expect(dialog()?.dataset.testid).toBe('task-dialog-complete'))
    await submitDialog()
    await vi.waitFor(() => expect(calls.at(-1)).toMatchObject({ path: '/api/v1/tasks/2:advance', body: { processId: '12' } }))

    await card(wrapper, '3').trigger('keydown', { key: 'ArrowLeft' })
    await vi.waitFor(() => expect(dialog()?.dataset.testid).toBe('task-dialog-return'))
    await submitDialog('no cable in the flat')
    await vi.waitFor(() =>
      expect(calls.at(-1)).toMatchObject({ path: '/api/v1/tasks/3:return', body: { processId: '13', toProcessId: '12', comment: 'no cable in the flat' } }),
    )
    wrapper.unmount()
  })

  it('does not let a card skip a process', async () => {
    const { calls } = mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const { wrapper } = mountWith(KanbanBoard, { props: { route: ROUTE, tasks: TASKS }, pinia: await signedIn() })
    await card(wrapper, '1').trigger('dragstart')
    await column(wrapper, '13').trigger('dragover')
    expect(column(wrapper, '13').classes()).not.toContain('board__column--over')
    await column(wrapper, '13').trigger('drop')
    await flushPromises()
    expect(dialog()).toBeNull()
    expect(calls.filter((c) => c.method === 'POST')).toEqual([])
    wrapper.unmount()
  })

  it('lets only those who work the process move its cards', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => memberMe(['2']) })
    const member = mountWith(KanbanBoard, { props: { route: ROUTE, tasks: TASKS }, pinia: await signedIn() }).wrapper
    expect(['1', '2', '3'].map((id) => card(member, id).attributes('draggable'))).toEqual(['false', 'true', 'false'])
    member.unmount()

    mockApi({ 'GET /api/v1/auth/me': () => VIEWER_ME })
    const viewer = mountWith(KanbanBoard, { props: { route: ROUTE, tasks: TASKS }, pinia: await signedIn() }).wrapper
    expect(viewer.findAll('[draggable=true]')).toHaveLength(0)
    expect(viewer.find('[data-testid=card-forward]').exists()).toBe(false)
    await card(viewer, '1').trigger('keydown', { key: 'ArrowRight' })
    await flushPromises()
    expect(dialog()).toBeNull()
    viewer.unmount()
  })
})
