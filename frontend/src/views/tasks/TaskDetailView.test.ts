import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { memberMe, signedIn } from '@/test/session'
import TaskDetailView from './TaskDetailView.vue'

const PROCESSES = [
  { id: '11', name: 'Sales check', groupId: '1', position: 1 },
  { id: '12', name: 'Feasibility', groupId: '2', position: 2 },
]
const TASK = {
  id: '9',
  number: 'T-000009',
  title: 'Connect C-000003',
  kind: 'TASK_KIND_CONNECTION',
  state: 'TASK_STATE_OPEN',
  routeId: '1',
  routeName: 'New connection',
  routeVersion: 1,
  currentProcess: PROCESSES[1],
  processes: PROCESSES,
  contractId: '3',
  contractNumber: 'C-000003',
  customerId: '5',
  customerName: 'Ivan Petrov',
  workflowId: 'task-9',
  slaDueAt: new Date(Date.now() + 5 * 3600_000).toISOString(),
}
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString()
const EVENTS = [
  { id: '1', kind: 'TASK_EVENT_KIND_CREATED', time: at(0), actorId: '1', actorName: 'admin', processName: 'Sales check', text: 'Connect C-000003' },
  {
    id: '2',
    kind: 'TASK_EVENT_KIND_ADVANCED',
    time: at(5),
    actorId: '1',
    actorName: 'admin',
    processName: 'Feasibility',
    fromProcessName: 'Sales check',
    text: 'confirmed',
  },
]
const COMMENTS = [{ id: '70', authorId: '1', authorName: 'admin', text: 'confirmed', createTime: at(5), processName: 'Sales check' }]

function api(me: object, extra: Record<string, () => unknown> = {}) {
  return mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/tasks/{id}': () => TASK,
    'GET /api/v1/tasks/{id}/events': () => ({ taskEvents: EVENTS }),
    'GET /api/v1/tasks/{id}/comments': () => ({ comments: COMMENTS }),
    'GET /api/v1/groups': () => ({
      groups: [
        { id: '1', name: 'Sales' },
        { id: '2', name: 'Provisioning' },
      ],
    }),
    'GET /api/v1/routes': () => ({ routes: [] }),
    ...extra,
  })
}

describe('the task screen', () => {
  it('shows the number, the route progress and one timeline of moves and comments', async () => {
    api(VIEWER_ME)
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=timeline-item]')).toHaveLength(2))
    expect(wrapper.get('[data-testid=task-number]').text()).toBe('T-000009')
    expect(wrapper.findAll('[data-testid=progress-step]').map((s) => s.attributes('data-state'))).toEqual(['done', 'current'])
    expect(wrapper.get('[data-testid=current-process]').text()).toContain('Provisioning')
    const items = wrapper.findAll('[data-testid=timeline-item]')
    expect(items).toHaveLength(2)
    expect(items[1]!.text()).toContain('confirmed')
    expect(items[1]!.text()).toContain('in “Sales check”')
    expect(wrapper.get('[data-testid=task-customer]').attributes('href')).toBe('/customers/5')
    expect(wrapper.get('[data-testid=task-contract]').attributes('href')).toBe('/contracts/3')
    wrapper.unmount()
  })

  it('gives a viewer no command, no comment box and none of the internals', async () => {
    api(VIEWER_ME, { 'GET /console-config.json': () => ({ temporalUiUrl: 'http://127.0.0.1:8233' }) })
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=task-number]').exists()).toBe(true))
    await flushPromises()
    for (const id of ['task-actions', 'comment-form', 'task-complete', 'task-cancel', 'task-id', 'temporal-link', 'task-workflow'])
      expect(wrapper.find(`[data-testid=${id}]`).exists(), id).toBe(false)
    wrapper.unmount()
  })

  it('tells a member of another group whose process it is, and offers them no comment box', async () => {
    api(memberMe(['1']))
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=not-your-process]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=task-actions]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=not-your-process]').text()).toContain('Provisioning')
    expect(wrapper.find('[data-testid=comment-form]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('lets a member of the current process’s group comment', async () => {
    const { calls } = api(memberMe(['2']), { 'POST /api/v1/tasks/{id}/comments': () => ({ id: '71', text: 'on my way' }) })
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=comment-text]').exists()).toBe(true))
    await wrapper.get('[data-testid=comment-text]').setValue('on my way')
    await wrapper.get('[data-testid=comment-form]').trigger('submit')
    await vi.waitFor(() => expect(calls.filter((c) => c.path === '/api/v1/tasks/9/comments' && c.method === 'GET')).toHaveLength(2))
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ path: '/api/v1/tasks/9/comments', body: { text: 'on my way' } })
    expect(calls.filter((c) => c.path === '/api/v1/tasks/9/comments' && c.method === 'GET')).toHaveLength(2)
    wrapper.unmount()
  })

  it('sends a comment to the customer when asked, and says how it reaches them', async () => {
    const { calls } = api(memberMe(['2']), { 'POST /api/v1/tasks/{id}/comments': () => ({ id: '72', text: 'we come tomorrow' }) })
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=comment-to-customer] input').exists()).toBe(true))
    expect(wrapper.get('[data-testid=comment-form]').text()).toContain('by Telegram or, without a linked chat, by SMS')
    await wrapper.get('[data-testid=comment-text]').setValue('we come tomorrow')
    await wrapper.get('[data-testid=comment-to-customer] input').setValue(true)
    await wrapper.get('[data-testid=comment-form]').trigger('submit')
    await vi.waitFor(() => expect(calls.find((c) => c.method === 'POST')).toBeDefined())
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ text: 'we come tomorrow', audience: 'COMMENT_AUDIENCE_TO_CUSTOMER' })
    // The next comment is among staff again unless asked.
    await vi.waitFor(() => expect((wrapper.get('[data-testid=comment-to-customer] input').element as HTMLInputElement).checked).toBe(false))
    wrapper.unmount()
  })

  it('offers no way to the customer on a task without one', async () => {
    api(memberMe(['2']), { 'GET /api/v1/tasks/{id}': () => ({ ...TASK, customerId: '0', customerName: '' }) })
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=comment-text]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=comment-to-customer]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('marks the comments from and to the customer on the timeline', async () => {
    api(VIEWER_ME, {
      'GET /api/v1/tasks/{id}/comments': () => ({
        comments: [
          ...COMMENTS,
          { id: '73', authorName: 'Ivan Petrov', text: 'still no internet', createTime: at(20), audience: 'COMMENT_AUDIENCE_FROM_CUSTOMER' },
          { id: '74', authorId: '1', authorName: 'admin', text: 'we come tomorrow', createTime: at(30), audience: 'COMMENT_AUDIENCE_TO_CUSTOMER' },
        ],
      }),
    })
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=timeline-item]')).toHaveLength(4))
    const items = wrapper.findAll('[data-testid=timeline-item]')
    expect(items[1]!.find('[data-testid=timeline-side]').exists()).toBe(false)
    expect(items[2]!.attributes('data-side')).toBe('from-customer')
    expect(items[2]!.get('[data-testid=timeline-side]').text()).toBe('From the customer')
    expect(items[3]!.attributes('data-side')).toBe('to-customer')
    expect(items[3]!.get('[data-testid=timeline-side]').text()).toBe('To the customer')
    wrapper.unmount()
  })

  it('gives a supervisor the commands, the internal id and the workflow', async () => {
    api(ADMIN_ME)
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=task-complete]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=task-cancel]').exists()).toBe(true)
    expect(wrapper.get('[data-testid=task-id]').text()).toContain('9')
    expect(wrapper.find('[data-testid=task-workflow]').exists()).toBe(true)
    wrapper.unmount()
  })

  it('opens the workflow in the gateway’s Temporal UI with a ticket asked for with the session', async () => {
    const { calls } = api(ADMIN_ME, {
      'GET /console-config.json': () => ({ temporalUiUrl: '/temporal', temporalUiTicket: true, temporalNamespace: 'crm' }),
      'POST /api/v1/auth/temporal-ui': () => new Response(null, { status: 204 }),
    })
    const tab = { opener: {} as unknown, location: { href: 'about:blank' }, close: vi.fn() }
    const open = vi.spyOn(window, 'open').mockReturnValue(tab as unknown as Window)
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=temporal-link]').exists()).toBe(true))
    const link = wrapper.get('[data-testid=temporal-link]')
    expect(link.attributes('href')).toBe('/temporal/namespaces/crm/workflows/task-9')
    await link.trigger('click')
    await vi.waitFor(() => expect(tab.location.href).toBe(`${location.origin}/temporal/namespaces/crm/workflows/task-9`))
    expect(open).toHaveBeenCalledWith('', '_blank')
    const asked = calls.filter((c) => c.path === '/api/v1/auth/temporal-ui')
    expect(asked).toHaveLength(1)
    expect(asked[0]!.headers.get('Authorization')).toMatch(/^Bearer /)
    wrapper.unmount()
  })

  it('shows the field visit only for a process worked at the customer’s address', async () => {
    api(VIEWER_ME)
    const plain = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() }).wrapper
    await vi.waitFor(() => expect(plain.find('[data-testid=task-number]').exists()).toBe(true))
    expect(plain.find('[data-testid=visit-panel]').exists()).toBe(false)
    plain.unmount()

    api(VIEWER_ME, { 'GET /api/v1/tasks/{id}': () => ({ ...TASK, awaitingVisit: true, currentProcess: { ...PROCESSES[1], visit: true } }) })
    const visit = mountWith(TaskDetailView, { props: { id: '9' }, pinia: await signedIn() }).wrapper
    await vi.waitFor(() => expect(visit.find('[data-testid=visit-panel]').exists()).toBe(true))
    expect(visit.get('[data-testid=visit-none]').text()).toContain('no visit is booked yet')
    visit.unmount()
  })

  it('tells a missing task apart from a failure', async () => {
    mockApi({
      'GET /api/v1/auth/me': () => VIEWER_ME,
      'GET /api/v1/tasks/{id}': () => rpcError(404, 5, 'task 77 does not exist'),
      'GET /api/v1/tasks/{id}/events': () => rpcError(404, 5, 'task 77 does not exist'),
      'GET /api/v1/tasks/{id}/comments': () => rpcError(404, 5, 'task 77 does not exist'),
    })
    const { wrapper } = mountWith(TaskDetailView, { props: { id: '77' }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.text()).toContain('Task not found'))
    wrapper.unmount()
  })
})
