// Tasks' calls: queues, one task with its timeline, and the commands people
// give it. They hold no state (each screen keeps what it read), so they are
// plain functions rather than a store. Every command names the process the person saw the task in, so a task
// that moved on meanwhile is refused (409 TASK_MOVED) instead of completing
// the wrong process.

import {
  api,
  ok,
  type CommentAudience,
  type Task,
  type TaskComment,
  type TaskEvent,
  type TaskOrder,
  type TaskPriority,
  type TaskState,
  type TaskStats,
} from '@/api/client'

export const TASKS_PAGE_SIZE = 25

/** A queue: every filter the list call takes. */
export interface TaskQuery {
  groupId?: string
  state?: TaskState
  contractId?: string
  customerId?: string
  /** "me" or a user id. */
  assignee?: string
  routeId?: string
  slaBreached?: boolean
  /** Only tasks whose workflow could not write a step. */
  stuck?: boolean
  /** A task or contract number, a phone or a part of one, or words (see the task search). */
  query?: string
  /** Only tasks whose process waits for a visit to be booked. */
  awaitingVisit?: boolean
  /** Newest first unless TASK_ORDER_PRIORITY: the most urgent first, then the soonest SLA due, across pages. */
  order?: TaskOrder
  pageSize?: number
}

export interface TaskPage {
  items: Task[]
  nextPageToken?: string
}

export interface ServiceTaskRequest {
  contractId: string
  routeId: string
  title: string
  description?: string
  /** What the route's actions need (a tariff change's tariff). */
  parameters?: { tariffId?: string }
  /** Normal when left out. */
  priority?: TaskPriority
}

/** The process a command is meant for: the one the person sees. */
function seen(task: Task): string | undefined {
  return task.currentProcess?.id || undefined
}

/** Reads every page of a task's timeline (a task has tens of steps, not thousands). */
async function allPages<T>(fetch: (token: string) => Promise<{ items: T[]; next?: string }>, limit = 20): Promise<T[]> {
  const out: T[] = []
  let token = ''
  for (let i = 0; i < limit; i++) {
    const page = await fetch(token)
    out.push(...page.items)
    token = page.next ?? ''
    if (!token) break
  }
  return out
}

/** A queue's filters as the list call's query parameters (those set). */
export function filters(q: TaskQuery) {
  return {
    groupId: q.groupId || undefined,
    state: q.state || undefined,
    contractId: q.contractId || undefined,
    customerId: q.customerId || undefined,
    assignee: q.assignee || undefined,
    routeId: q.routeId || undefined,
    slaBreached: q.slaBreached || undefined,
    stuck: q.stuck || undefined,
    query: q.query || undefined,
    awaitingVisit: q.awaitingVisit || undefined,
    order: q.order || undefined,
  }
}

export async function list(q: TaskQuery, pageToken = ''): Promise<TaskPage> {
  const res = await ok(
    api.GET('/api/v1/tasks', {
      params: { query: { ...filters(q), pageSize: q.pageSize ?? TASKS_PAGE_SIZE, pageToken: pageToken || undefined } },
    }),
  )
  return { items: res.tasks ?? [], nextPageToken: res.nextPageToken }
}

/** A queue's filters for its CSV export (GET /api/v1/tasks:export). */
export function exportQuery(q: TaskQuery): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(filters(q))
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  )
}

/** Every task of a queue, up to `max` (the board shows a route's open tasks): with the priority order, the most urgent when cut. */
export async function listAll(q: TaskQuery, max = 500): Promise<{ items: Task[]; truncated: boolean }> {
  const items: Task[] = []
  let token = ''
  do {
    const page = await list({ ...q, pageSize: 100 }, token)
    items.push(...page.items)
    token = page.nextPageToken ?? ''
  } while (token && items.length < max)
  return { items, truncated: token !== '' }
}

export async function get(id: string): Promise<Task> {
  return ok(api.GET('/api/v1/tasks/{id}', { params: { path: { id } } }))
}

export async function events(id: string): Promise<TaskEvent[]> {
  return allPages(async (token) => {
    const res = await ok(
      api.GET('/api/v1/tasks/{task_id}/events', { params: { path: { task_id: id }, query: { pageSize: 200, pageToken: token || undefined } } }),
    )
    return { items: res.taskEvents ?? [], next: res.nextPageToken }
  })
}

export async function comments(id: string): Promise<TaskComment[]> {
  return allPages(async (token) => {
    const res = await ok(
      api.GET('/api/v1/tasks/{task_id}/comments', { params: { path: { task_id: id }, query: { pageSize: 200, pageToken: token || undefined } } }),
    )
    return { items: res.comments ?? [], next: res.nextPageToken }
  })
}

export async function create(req: ServiceTaskRequest): Promise<Task> {
  return ok(api.POST('/api/v1/tasks', { body: { ...req, description: req.description || undefined } }))
}

/** Completes the process the person saw: the task moves on or closes. */
export async function advance(task: Task, opts: { comment?: string; resolution?: string } = {}): Promise<Task> {
  return ok(
    api.POST('/api/v1/tasks/{id}:advance', {
      params: { path: { id: task.id ?? '' } },
      body: { processId: seen(task), comment: opts.comment?.trim() || undefined, resolution: opts.resolution?.trim() || undefined },
    }),
  )
}

/** Sends the task back to an earlier process (the previous one when none is named). */
export async function sendBack(task: Task, comment: string, toProcessId?: string): Promise<Task> {
  return ok(
    api.POST('/api/v1/tasks/{id}:return', {
      params: { path: { id: task.id ?? '' } },
      body: { processId: seen(task), toProcessId: toProcessId || undefined, comment: comment.trim() },
    }),
  )
}

/** Assigns to a member of the current group; no user: the caller takes it. */
export async function assign(task: Task, userId?: string): Promise<Task> {
  return ok(
    api.POST('/api/v1/tasks/{id}:assign', {
      params: { path: { id: task.id ?? '' } },
      // required: without the process the server refuses the assign
      body: { processId: seen(task) ?? '0', userId: userId || undefined },
    }),
  )
}

/** Sets how urgent the task is (supervisors). */
export async function setPriority(task: Task, priority: TaskPriority): Promise<Task> {
  return ok(api.POST('/api/v1/tasks/{id}:setPriority', { params: { path: { id: task.id ?? '' } }, body: { priority } }))
}

export async function cancel(task: Task, reason: string): Promise<Task> {
  return ok(api.POST('/api/v1/tasks/{id}:cancel', { params: { path: { id: task.id ?? '' } }, body: { reason: reason.trim() } }))
}

/** Opens an ended task again in a process of its route (its last by default), saying why. */
export async function reopen(task: Task, reason: string, processId: string): Promise<Task> {
  return ok(api.POST('/api/v1/tasks/{id}:reopen', { params: { path: { id: task.id ?? '' } }, body: { reason: reason.trim(), processId } }))
}

/** Adds a comment; toCustomer also sends it to the task's customer (Telegram or SMS). */
export async function comment(taskId: string, text: string, toCustomer = false): Promise<TaskComment> {
  const audience: CommentAudience | undefined = toCustomer ? 'COMMENT_AUDIENCE_TO_CUSTOMER' : undefined
  return ok(api.POST('/api/v1/tasks/{task_id}/comments', { params: { path: { task_id: taskId } }, body: { text: text.trim(), audience } }))
}

/** Asks a stuck task to write its pending step now; answers the task as it then stands. */
export async function retry(task: Task): Promise<Task> {
  return ok(api.POST('/api/v1/tasks/{id}:retry', { params: { path: { id: task.id ?? '' } }, body: {} }))
}

export async function stats(): Promise<TaskStats> {
  return ok(api.GET('/api/v1/tasks:stats'))
}
