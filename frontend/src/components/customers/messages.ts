// How the customer's message log reads: a message's state as a tag (words
// and colour), whether it is held for quiet hours, and its milestone's words.

import type { CustomerMessage } from '@/api/client'

export type StateSeverity = 'success' | 'secondary' | 'warn' | 'danger'

const SEVERITY: Record<string, StateSeverity> = {
  delivered: 'success',
  sent: 'success',
  pending: 'secondary',
  held: 'secondary',
  sending: 'secondary',
  skipped: 'warn',
  undelivered: 'danger',
  failed: 'danger',
}

/** The tag colour of a message's state; an unknown state stays neutral. */
export function stateSeverity(state: string | undefined): StateSeverity {
  return SEVERITY[state ?? ''] ?? 'secondary'
}

/** The i18n key of a state's words (an unknown state has its own). */
export function stateKey(state: string | undefined): string {
  return state && state in SEVERITY ? `customers.messages.state.${state}` : 'customers.messages.state.other'
}

export const MILESTONES = [
  'contract_opened',
  'visit_booked',
  'visit_rescheduled',
  'visit_on_the_way',
  'connected',
  'request_received',
  'request_resolved',
  'staff_comment',
] as const

/** The i18n key of a milestone's words (an unknown one has its own). */
export function milestoneKey(milestone: string | undefined): string {
  return (MILESTONES as readonly string[]).includes(milestone ?? '') ? `customers.messages.milestone.${milestone}` : 'customers.messages.milestone.other'
}

/** A message waiting for the end of quiet hours: the time it goes, else ''. */
export function heldUntil(m: CustomerMessage): string {
  const waiting = m.state === 'pending' || m.state === 'held' || m.state === 'sending'
  return waiting && m.reason === 'quiet hours' && m.nextAttemptTime ? m.nextAttemptTime : ''
}

/** Whether the state's reason is worth showing beside it (a refusal, not a hold). */
export function showsReason(m: CustomerMessage): boolean {
  return !!m.reason && ['skipped', 'failed', 'undelivered'].includes(m.state ?? '')
}

// The notifier's own reasons, in the reader's words; a provider's refusal
// is shown as the provider gave it.
const REASONS: Record<string, string> = {
  'the customer opted out of this channel': 'optedOut',
  'the customer has no number to text': 'noNumber',
  'no SMS provider configured': 'noProvider',
  'no bot configured': 'noBot',
  'the user blocked the bot': 'blocked',
}

/** The i18n key of a reason the notifier words itself, else ''. */
export function reasonKey(reason: string | undefined): string {
  const key = REASONS[reason ?? '']
  return key ? `customers.messages.reason.${key}` : ''
}

/** The task a message tells of, when there is one. */
export function taskOf(m: CustomerMessage): string {
  return m.taskId && m.taskId !== '0' ? m.taskId : ''
}
