// Which visit commands a person may give, by the rules the task service
// applies (docs/visits.md): those who work the task's process (members of
// its group, or holders of tasks.manage) book, rebook and cancel its
// visit; a visit is not moved once the technician is on site; the booked
// technicians (and holders of tasks.manage) report from the field, in the
// order a visit goes. Only supervisors book outside working time or over a
// day's limit. The server checks again; this keeps buttons that could only
// fail off the screen.

import type { Task, Visit } from '@/api/client'
import { isOpen, worksCurrentProcess, type Actor } from '@/components/tasks/permissions'
import { isActive, isMovable, technicianIds } from './calendar'

export interface VisitActions {
  /** Book a visit for a task that waits for one. */
  book: boolean
  /** Move the booked visit (another window, other technicians). */
  rebook: boolean
  cancel: boolean
  onTheWay: boolean
  arrived: boolean
  done: boolean
  cantDo: boolean
  /** Book anyway, outside working time or over a day's limit. */
  override: boolean
}

/** The commands asked for in a dialog, with words. */
export type VisitCommand = 'cancel' | 'done' | 'cantDo'

export const NO_VISIT_ACTIONS: Readonly<VisitActions> = Object.freeze({
  book: false,
  rebook: false,
  cancel: false,
  onTheWay: false,
  arrived: false,
  done: false,
  cantDo: false,
  override: false,
})

/** Whether the person books visits of a group's processes. */
export function booksFor(groupId: string | undefined, actor: Actor): boolean {
  if (!actor.can('tasks.work')) return false
  return actor.can('tasks.manage') || (!!groupId && actor.groupIds.includes(groupId))
}

export function visitActions(task: Task, visit: Visit | null | undefined, actor: Actor): VisitActions {
  if (!isOpen(task) || !actor.can('tasks.work') || !task.currentProcess?.visit) return { ...NO_VISIT_ACTIONS }
  const works = worksCurrentProcess(task, actor)
  const active = visit && isActive(visit) ? visit : null
  const reports = !!active && (actor.can('tasks.manage') || technicianIds(active).includes(actor.userId))
  const state = active?.state
  return {
    book: works && !active,
    rebook: works && !!active && isMovable(active),
    cancel: works && !!active,
    onTheWay: reports && state === 'VISIT_STATE_BOOKED',
    arrived: reports && (state === 'VISIT_STATE_BOOKED' || state === 'VISIT_STATE_ON_THE_WAY'),
    done: reports,
    cantDo: reports,
    override: actor.can('tasks.manage'),
  }
}
