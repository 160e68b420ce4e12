import { describe, expect, it } from 'vitest'
import type { Task } from '@/api/client'
import { ApiError } from '@/api/errors'
import * as tasksApi from '@/api/tasks'
import { mockApi, rpcError } from '@/test/mockApi'

const TASK: Task = { id: '9', number: 'T-000009', state: 'TASK_STATE_OPEN', currentProcess: { id: '12', name: 'Feasibility', groupId: '2', position: 2 } }

describe('the tasks calls', () => {
  it('asks for a queue with only the filters that are set', async () => {
    const { calls } = mockApi({ 'GET /api/v1/tasks': () => ({ tasks: [TASK], nextPageToken: 'n2' }) })
    const page = await tasksApi.list({ assignee: 'me', state: 'TASK_STATE_OPEN', slaBreached: true, routeId: '' }, 'tok')
    expect(page).toEqual({ items: [TASK], nextPageToken: 'n2' })
    const q = calls[0]!.query
    expect(Object.fromEntries(q)).toEqual({ assignee: 'me', state: 'TASK_STATE_OPEN', slaBreached: 'true', pageSize: '25', pageToken: 'tok' })
  })

  it('reads every page of a board, up to a limit, each in the order asked', async () => {
    const { calls } = mockApi({
      'GET /api/v1/tasks': (req) => (req.query.get('pageToken') ? { tasks: [{ id: '2' }] } : { tasks: [{ id: '1' }], nextPageToken: 'p2' }),
    })
    const res = await tasksApi.listAll({ routeId: '1', state: 'TASK_STATE_OPEN', order: 'TASK_ORDER_PRIORITY' })
    expect(res).toEqual({ items: [{ id: '1' }, { id: '2' }], truncated: false })
    expect(calls.map((c) => c.query.get('pageSize'))).toEqual(['100', '100'])
    expect(calls.map((c) => c.query.get('order'))).toEqual(['TASK_ORDER_PRIORITY', 'TASK_ORDER_PRIORITY'])
  })

  it('exports a queue in its order', () => {
    expect(tasksApi.exportQuery({ groupId: '2', order: 'TASK_ORDER_PRIORITY' })).toEqual({ groupId: '2', order: 'TASK_ORDER_PRIORITY' })
  })

  it('completes the process the person saw, with the comment and resolution', async () => {
    const { calls } = mockApi({ 'POST /api/v1/tasks/{id}:advance': () => ({ ...TASK, currentProcess: { id: '13' } }) })
    await tasksApi.advance(TASK, { comment: ' done ', resolution: '' })
    expect(calls[0]?.path).toBe('/api/v1/tasks/9:advance')
    expect(calls[0]?.body).toEqual({ processId: '12', comment: 'done' })
  })

  it('returns to a chosen process with the reason, and takes a task with no user named', async () => {
    const { calls } = mockApi({
      'POST /api/v1/tasks/{id}:return': () => TASK,
      'POST /api/v1/tasks/{id}:assign': () => TASK,
      'POST /api/v1/tasks/{id}:cancel': () => TASK,
    })
    const store = tasksApi
    await store.sendBack(TASK, 'wrong address', '11')
    await store.assign(TASK)
    await store.assign(TASK, '44')
    await store.cancel(TASK, ' duplicate ')
    expect(calls.map((c) => c.body)).toEqual([
      { processId: '12', toProcessId: '11', comment: 'wrong address' },
      { processId: '12' },
      { processId: '12', userId: '44' },
      { reason: 'duplicate' },
    ])
  })

  it('hands a task that moved on meanwhile back as a 409 with its reason', async () => {
    mockApi({ 'POST /api/v1/tasks/{id}:advance': () => rpcError(409, 10, 'task T-000009 has moved on', { reason: 'TASK_MOVED' }) })
    const err = await tasksApi.advance(TASK).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).reason).toBe('TASK_MOVED')
  })

  it('reads the whole timeline, events and comments, page by page', async () => {
    mockApi({
      'GET /api/v1/tasks/{id}/events': (req) =>
        req.query.get('pageToken') ? { taskEvents: [{ id: '2' }] } : { taskEvents: [{ id: '1' }], nextPageToken: 'e2' },
      'GET /api/v1/tasks/{id}/comments': () => ({ comments: [{ id: '7', text: 'hi' }] }),
    })
    const store = tasksApi
    expect((await store.events('9')).map((e) => e.id)).toEqual(['1', '2'])
    expect((await store.comments('9')).map((c) => c.id)).toEqual(['7'])
  })

  it('opens a service task without an empty description', async () => {
    const { calls } = mockApi({ 'POST /api/v1/tasks': (req) => ({ id: '10', ...(req.body as object) }) })
    await tasksApi.create({ contractId: '3', routeId: '2', title: 'No link', description: '' })
    expect(calls[0]?.body).toEqual({ contractId: '3', routeId: '2', title: 'No link' })
  })

  it('asks for the stuck tasks and retries one', async () => {
    const { calls } = mockApi({
      'GET /api/v1/tasks': () => ({ tasks: [{ ...TASK, stuck: true }] }),
      'POST /api/v1/tasks/{id}:retry': () => ({ ...TASK, stuck: false }),
    })
    const store = tasksApi
    await store.list({ stuck: true })
    const got = await store.retry(TASK)
    expect(Object.fromEntries(calls[0]!.query)).toEqual({ stuck: 'true', pageSize: '25' })
    expect(calls[1]?.path).toBe('/api/v1/tasks/9:retry')
    expect(got.stuck).toBe(false)
  })
})
