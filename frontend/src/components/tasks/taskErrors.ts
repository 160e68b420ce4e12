// What the console says when a command on a task is refused: the task moved
// on meanwhile (409 TASK_MOVED), the person is not in the responsible group
// (403), the task is closed (400), or it is stuck: its last step could not
// be written (503 TASK_STUCK). After each the task is read again.

import { asApiError } from '@/api/errors'
import { describeError } from '@/api/problems'

type Translate = (key: string, params?: Record<string, unknown>) => string

export type Refusal = 'moved' | 'forbidden' | 'closed' | 'stuck' | 'other'

export function refusalOf(err: unknown): Refusal {
  const e = asApiError(err)
  if (e.reason === 'TASK_MOVED' || (e.status === 409 && e.code === 10)) return 'moved'
  if (e.forbidden) return 'forbidden'
  if (e.reason === 'TASK_STUCK') return 'stuck'
  if (e.status === 400 && e.code === 9) return 'closed'
  return 'other'
}

/** A heading and the server's own explanation for a refused command. */
export function describeTaskError(err: unknown, t: Translate): { summary: string; detail: string } {
  const e = asApiError(err)
  switch (refusalOf(err)) {
    case 'moved':
      return { summary: t('tasks.errors.moved'), detail: e.message }
    case 'forbidden':
      return { summary: t('tasks.errors.forbidden'), detail: e.message }
    case 'closed':
      return { summary: t('tasks.errors.closed'), detail: e.message }
    case 'stuck':
      return { summary: t('tasks.errors.stuck'), detail: e.message }
    default:
      return { summary: t('tasks.errors.failed'), detail: describeError(err, t) }
  }
}

/** Whether the task should be read again after this failure (it changed, or we were wrong about it). */
export function shouldReload(err: unknown): boolean {
  return refusalOf(err) !== 'other'
}
