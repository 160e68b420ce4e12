// A task's priority: its name in the messages, its weight in a sort.

import type { Task, TaskPriority } from '@/api/client'

export const PRIORITIES = ['TASK_PRIORITY_LOW', 'TASK_PRIORITY_NORMAL', 'TASK_PRIORITY_HIGH', 'TASK_PRIORITY_URGENT'] as const

/** "TASK_PRIORITY_HIGH" → "high" (the key under tasks.priority; unspecified is normal). */
export function priorityKey(p: TaskPriority | undefined): string {
  return !p || p === 'TASK_PRIORITY_UNSPECIFIED' ? 'normal' : p.replace('TASK_PRIORITY_', '').toLowerCase()
}

/** Larger for the more urgent: a sort puts them first. */
export function priorityWeight(t: Pick<Task, 'priority'>): number {
  const i = PRIORITIES.indexOf((t.priority ?? 'TASK_PRIORITY_NORMAL') as (typeof PRIORITIES)[number])
  return i < 0 ? 1 : i
}

/** The four priorities as a select's options, named in the reader's language. */
export function priorityOptions(t: (key: string) => string): { value: TaskPriority; label: string }[] {
  return PRIORITIES.map((p) => ({ value: p, label: t(`tasks.priority.${priorityKey(p)}`) }))
}
