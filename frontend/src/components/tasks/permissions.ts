// Which commands a person may give a task, by the same rules the server
// applies: members of the current process's group (or holders of
// tasks.manage) take, complete, return and assign it; cancelling is for
// tasks.manage, or for the task's creator while it is in its first process;
// commenting follows the same rule as working it. An ended service task is
// reopened, within the period the server gives (reopenUntil), by the group
// of the process it ended in, or by holders of tasks.manage. The server checks
// again; this only keeps buttons that could only fail off the screen.

import type { Task } from '@/api/client'

export interface Actor {
  userId: string
  /** Ids of the groups the person belongs to. */
  groupIds: readonly string[]
  can(...perms: string[]): boolean
}

export interface TaskActions {
  take: boolean
  complete: boolean
  /** Sent back to an earlier process: not from the first one. */
  return: boolean
  assign: boolean
  cancel: boolean
  comment: boolean
  reopen: boolean
}

export const NO_ACTIONS: Readonly<TaskActions> = Object.freeze({
  take: false,
  complete: false,
  return: false,
  assign: false,
  cancel: false,
  comment: false,
  reopen: false,
})

export function isOpen(task: Task): boolean {
  return task.state === 'TASK_STATE_OPEN'
}

/** Whether the person may work the task's current process. */
export function worksCurrentProcess(task: Task, actor: Actor): boolean {
  if (!isOpen(task) || !actor.can('tasks.work')) return false
  if (actor.can('tasks.manage')) return true
  const group = task.currentProcess?.groupId
  return !!group && actor.groupIds.includes(group)
}

/** Whether the person may open the ended task again, at now (ms since the epoch). */
export function mayReopen(task: Task, actor: Actor, now: number = Date.now()): boolean {
  if (isOpen(task) || !task.reopenUntil || Date.parse(task.reopenUntil) <= now || !actor.can('tasks.work')) return false
  if (actor.can('tasks.manage')) return true
  const group = task.currentProcess?.groupId
  return !!group && actor.groupIds.includes(group)
}

export function taskActions(task: Task, actor: Actor): TaskActions {
  if (!isOpen(task)) return { ...NO_ACTIONS, reopen: mayReopen(task, actor) }
  if (!actor.can('tasks.work')) return { ...NO_ACTIONS }
  const works = worksCurrentProcess(task, actor)
  const position = task.currentProcess?.position ?? 1
  const mine = !!task.assigneeId && task.assigneeId === actor.userId
  return {
    take: works && !mine,
    complete: works,
    return: works && position > 1,
    assign: works,
    cancel: actor.can('tasks.manage') || (!!task.createdBy && task.createdBy === actor.userId && position <= 1),
    comment: works,
    reopen: false,
  }
}

/** The processes a task may be sent back to: those before the current one. */
export function earlierProcesses(task: Task) {
  const position = task.currentProcess?.position ?? 1
  return (task.processes ?? []).filter((p) => (p.position ?? 0) < position)
}

/** The commands that are asked for in a dialog. */
export type Command = 'complete' | 'return' | 'assign' | 'cancel' | 'reopen'
