import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, VIEWER_ME } from '@/test/mockApi'
import { makeTestRouter, mountWith } from '@/test/mount'
import { memberMe, signedIn } from '@/test/session'
import { option } from '@/test/select'
import TasksView from './TasksView.vue'

const task = (id: string) => ({
  id,
  number: `T-${id}`,
  title: `Task ${id}`,
  state: 'TASK_STATE_OPEN',
  currentProcess: { id: '1', name: 'Sales check', groupId: '3' },
  routeName: 'New connection',
})

type Wrapper = ReturnType<typeof mountWith>['wrapper']
const listed = (w: Wrapper) => expect(w.findAll('[data-testid=task-link]').length).toBeGreaterThan(0)

/** Opens the queues at path; ready says when the first answer is on screen (a queue's tasks, by default). */
async function open(path: string, me: object, stats: object = { myTasks: '2', processes: [] }, ready: (w: Wrapper) => void = listed) {
  const api = mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/tasks:stats': () => stats,
    'GET /api/v1/groups': () => ({
      groups: [
        { id: '2', name: 'Installers' },
        { id: '3', name: 'Support' },
      ],
    }),
    'GET /api/v1/routes': () => ({
      routes: [
        { id: '1', name: 'New connection' },
        { id: '2', name: 'Repair' },
      ],
    }),
    'GET /api/v1/tasks': (req) => (req.query.get('pageToken') ? { tasks: [task('3')] } : { tasks: [task('1'), task('2')], nextPageToken: 'p2' }),
  })
  const pinia = await signedIn()
  const router = makeTestRouter()
  await router.push(path)
  await router.isReady()
  const { wrapper } = mountWith(TasksView, { pinia, router })
  await vi.waitFor(() => ready(wrapper))
  const lists = () => api.calls.filter((c) => c.path === '/api/v1/tasks').map((c) => Object.fromEntries(c.query))
  return { wrapper, router, lists }
}

describe('the task queues', () => {
  it('opens on my open tasks for someone who works tasks, and pages on', async () => {
    const { wrapper, lists } = await open('/tasks', memberMe(['2', '3']))
    expect(lists()[0]).toEqual({ assignee: 'me', state: 'TASK_STATE_OPEN', order: 'TASK_ORDER_PRIORITY', pageSize: '25' })
    expect(wrapper.findAll('[data-testid=task-link]').map((l) => l.text())).toEqual(['T-1', 'T-2'])
    await wrapper.get('[data-testid=tasks-load-more]').trigger('click')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=task-link]')).toHaveLength(3))
    expect(lists()[1]).toMatchObject({ pageToken: 'p2', assignee: 'me' })
    wrapper.unmount()
  }, 20_000)

  it('shows a group’s queue, the first of mine unless another is chosen', async () => {
    const { wrapper, lists } = await open('/tasks?queue=group', memberMe(['2', '3']))
    expect(lists()[0]).toEqual({ groupId: '2', state: 'TASK_STATE_OPEN', order: 'TASK_ORDER_PRIORITY', pageSize: '25' })
    wrapper.unmount()
    const again = await open('/tasks?queue=group&group=3&state=any&route=2&breached=1', memberMe(['2', '3']))
    expect(again.lists()[0]).toEqual({ groupId: '3', routeId: '2', slaBreached: 'true', order: 'TASK_ORDER_PRIORITY', pageSize: '25' })
    again.wrapper.unmount()
  }, 20_000)

  it('keeps the filters in the address and asks again when they change', async () => {
    const { wrapper, router, lists } = await open('/tasks?queue=all', VIEWER_ME)
    expect(lists()[0]).toEqual({ state: 'TASK_STATE_OPEN', pageSize: '25' })
    await wrapper.get('#filter-breached').setValue(true)
    await vi.waitFor(() => expect(lists().at(-1)).toEqual({ state: 'TASK_STATE_OPEN', slaBreached: 'true', pageSize: '25' }))
    expect(router.currentRoute.value.query).toMatchObject({ queue: 'all', breached: '1' })
    wrapper.unmount()
  })

  it('has each queue tab control the panel that shows the chosen queue', async () => {
    const { wrapper } = await open('/tasks?queue=all', VIEWER_ME)
    const tabs = wrapper.findAll('[role=tab]')
    expect(tabs.length).toBeGreaterThan(1)
    const panel = wrapper.get('[role=tabpanel]')
    for (const tab of tabs) expect(tab.attributes('aria-controls')).toBe(panel.attributes('id'))
    const selected = tabs.find((tab) => tab.attributes('aria-selected') === 'true')
    expect(panel.attributes('aria-labelledby')).toBe(selected?.attributes('id'))
    expect(panel.find('[data-testid=queue-table]').exists()).toBe(true)
    wrapper.unmount()
  })

  it('tells someone in no group that they have no group queue', async () => {
    const noGroup = (w: Wrapper) => expect(w.text()).toContain('You are not in any group')
    const { wrapper, lists } = await open('/tasks?queue=group', memberMe([]), undefined, noGroup)
    expect(lists()).toEqual([])
    wrapper.unmount()
  })

  it('gives supervisors a list of the stuck tasks, whatever their state, marked as such', async () => {
    const { wrapper, lists } = await open('/tasks?queue=stuck', ADMIN_ME)
    expect(lists()[0]).toEqual({ stuck: 'true', pageSize: '25' })
    expect(wrapper.find('[data-testid=queue-stuck]').exists()).toBe(true)
    expect(wrapper.find('#filter-state').exists()).toBe(false)
    wrapper.unmount()
    const member = await open('/tasks?queue=stuck', memberMe(['2']))
    expect(member.wrapper.find('[data-testid=queue-stuck]').exists()).toBe(false)
    expect(member.lists()[0]).toEqual({ assignee: 'me', state: 'TASK_STATE_OPEN', order: 'TASK_ORDER_PRIORITY', pageSize: '25' })
    member.wrapper.unmount()
  })

  it('opens on the group queue that has work when nothing is assigned to me, and says so', async () => {
    const stats = {
      myTasks: '0',
      processes: [
        { groupId: '3', openTasks: '12' },
        { groupId: '9', openTasks: '5' },
      ],
    }
    const { wrapper, lists } = await open('/tasks', memberMe(['2', '3']), stats)
    expect(lists()[0]).toEqual({ groupId: '3', state: 'TASK_STATE_OPEN', order: 'TASK_ORDER_PRIORITY', pageSize: '25' })
    expect(wrapper.get('[data-testid=work-hint]').text()).toContain('12')
    wrapper.unmount()
  })

  it('leaves a chosen queue alone, and opens on my tasks when I have some', async () => {
    const stats = {
      myTasks: '0',
      processes: [
        { groupId: '2', openTasks: '1' },
        { groupId: '3', openTasks: '11' },
      ],
    }
    const { wrapper, lists } = await open('/tasks?queue=mine', memberMe(['2', '3']), stats)
    expect(lists()[0]).toMatchObject({ assignee: 'me' })
    expect(wrapper.find('[data-testid=work-hint]').exists()).toBe(false)
    wrapper.unmount()
    const fresh = await open('/tasks', memberMe(['2', '3']), { myTasks: '3', processes: [{ groupId: '2', openTasks: '12' }] })
    expect(fresh.lists()[0]).toMatchObject({ assignee: 'me' })
    expect(fresh.wrapper.find('[data-testid=work-hint]').exists()).toBe(false)
    fresh.wrapper.unmount()
  })

  it('searches as typed, keeps the search in the address and shows each task’s group', async () => {
    const { wrapper, router, lists } = await open('/tasks?queue=all&q=T-000001', VIEWER_ME)
    expect(lists()[0]).toEqual({ state: 'TASK_STATE_OPEN', query: 'T-000001', pageSize: '25' })
    await wrapper.get('[data-testid=task-search]').setValue('Пётр')
    await wrapper.get('form[role=search]').trigger('submit')
    await vi.waitFor(() => expect(lists().at(-1)).toEqual({ state: 'TASK_STATE_OPEN', query: 'Пётр', pageSize: '25' }))
    expect(router.currentRoute.value.query).toMatchObject({ queue: 'all', q: 'Пётр' })
    router.back()
    await vi.waitFor(() => expect(router.currentRoute.value.query.q).toBe('T-000001'))
    wrapper.unmount()
  })

  it('lists the work queues most urgent first, the others newest first, and keeps a chosen order in the address', async () => {
    const { wrapper, router, lists } = await open('/tasks?queue=group&group=3', memberMe(['2', '3']))
    expect(lists()[0]).toMatchObject({ groupId: '3', order: 'TASK_ORDER_PRIORITY' })
    expect(wrapper.get('[data-testid=filter-order]').text()).toContain('Most urgent first')
    await wrapper.get('[data-testid=filter-order]').trigger('click')
    ;(await option('Newest first')).dispatchEvent(new MouseEvent('mousedown', { bubbles: true }))
    await vi.waitFor(() => expect(lists().at(-1)).toEqual({ groupId: '3', state: 'TASK_STATE_OPEN', pageSize: '25' }))
    expect(router.currentRoute.value.query).toMatchObject({ queue: 'group', group: '3', order: 'newest' })
    wrapper.unmount()

    const all = await open('/tasks?queue=all', VIEWER_ME)
    expect(all.lists()[0]).toEqual({ state: 'TASK_STATE_OPEN', pageSize: '25' })
    await all.router.push('/tasks?queue=all&order=priority')
    await vi.waitFor(() => expect(all.lists().at(-1)).toEqual({ state: 'TASK_STATE_OPEN', order: 'TASK_ORDER_PRIORITY', pageSize: '25' }))
    // back to the default: the address no longer names an order
    await all.wrapper.get('[data-testid=filter-order]').trigger('click')
    ;(await option('Newest first')).dispatchEvent(new MouseEvent('mousedown', { bubbles: true }))
    await vi.waitFor(() => expect(all.router.currentRoute.value.query.order).toBeUndefined())
    all.wrapper.unmount()
  }, 20_000)

  it('does not send a query too short to search by, and says what to type', async () => {
    const short = (w: Wrapper) => expect(w.find('[data-testid=task-search-short]').exists()).toBe(true)
    const { wrapper, lists } = await open('/tasks?queue=all&q=ab', VIEWER_ME, undefined, short)
    await flushPromises()
    expect(lists()).toEqual([])
    wrapper.unmount()
  })
})
