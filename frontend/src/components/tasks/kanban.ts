// The board of one route: a column per process of its current version, a
// card per open task in the column of its current process. A task running
// on an older version may sit in a process the route no longer has; such
// cards gather in a last column of their own. In a column the more urgent
// come first, then the order the tasks came in (the server's priority
// order: the soonest SLA due first).
//
// Moving a card is a command: to the next column it completes the process
// (advance); to an earlier column it sends the task back there (return,
// with a comment); tasks move one process at a time, so skipping ahead is
// refused on the board itself.

import type { Process, Route, Task } from '@/api/client'
import { priorityWeight } from './priority'

export interface BoardColumn {
  key: string
  process: Process | null
  tasks: Task[]
}

export const ELSEWHERE = 'elsewhere'

export function buildColumns(route: Route | undefined, tasks: Task[]): BoardColumn[] {
  const columns: BoardColumn[] = (route?.processes ?? []).map((p) => ({ key: p.id ?? '', process: p, tasks: [] }))
  const byProcess = new Map(columns.map((c) => [c.key, c]))
  const elsewhere: Task[] = []
  for (const t of tasks) {
    if (t.state !== 'TASK_STATE_OPEN' || (route?.id && t.routeId !== route.id)) continue
    const col = byProcess.get(t.currentProcess?.id ?? '')
    if (col) col.tasks.push(t)
    else elsewhere.push(t)
  }
  if (elsewhere.length > 0) columns.push({ key: ELSEWHERE, process: null, tasks: elsewhere })
  // a stable sort: equal priorities keep the list's order
  for (const c of columns) c.tasks.sort((a, b) => priorityWeight(b) - priorityWeight(a))
  return columns
}

export type Move = { kind: 'advance' } | { kind: 'return'; toProcessId: string } | { kind: 'none' } | { kind: 'skip' } | { kind: 'unknown' }

/** What dropping a task on a column means. */
export function moveIntent(columns: BoardColumn[], task: Task, targetKey: string): Move {
  const real = columns.filter((c) => c.process)
  const from = real.findIndex((c) => c.key === (task.currentProcess?.id ?? ''))
  const to = real.findIndex((c) => c.key === targetKey)
  if (from < 0 || to < 0) return { kind: 'unknown' }
  if (to === from) return { kind: 'none' }
  if (to === from + 1) return { kind: 'advance' }
  if (to < from) return { kind: 'return', toProcessId: targetKey }
  return { kind: 'skip' }
}

/** The column a keyboard move lands on: one step right or left. */
export function neighbourKey(columns: BoardColumn[], task: Task, step: 1 | -1): string | null {
  const real = columns.filter((c) => c.process)
  const from = real.findIndex((c) => c.key === (task.currentProcess?.id ?? ''))
  if (from < 0) return null
  return real[from + step]?.key ?? null
}

/** The task in the list replaced by its new state (or dropped once it left the board). */
export function replaceTask(tasks: Task[], updated: Task): Task[] {
  return tasks.map((t) => (t.id === updated.id ? updated : t)).filter((t) => t.state === 'TASK_STATE_OPEN')
}
