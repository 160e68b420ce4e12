// What the console says about a failed call: a sentence for a toast or a
// form, and per-field problems for the inputs that caused it.

import { ApiError, asApiError } from './errors'
import { formatSeconds } from '@/utils/format'
import { formatPhone } from '@/utils/phone'

/** A problem with one input: an i18n key with parameters, or the server's own words. */
export type FieldProblem = { key: string; params?: Record<string, string | number>; customerId?: string } | { text: string; customerId?: string }

export type FieldProblems = Record<string, FieldProblem>

type Translate = (key: string, params?: Record<string, unknown>) => string

/** One sentence for a failed call, in the reader's language where the cause is generic. */
export function describeError(err: unknown, t: Translate): string {
  const e = asApiError(err)
  if (e.network) return t('errors.network')
  if (e.unauthenticated) return t('errors.sessionEnded')
  if (e.forbidden) return t('errors.forbidden')
  if (e.stale) return t('errors.stale')
  if (e.throttled) return e.retryAfterSeconds > 0 ? t('errors.throttledFor', { time: formatSeconds(e.retryAfterSeconds) }) : t('errors.throttled')
  if (e.status >= 500) return e.status === 503 ? t('errors.unavailable') : t('errors.server')
  return e.message || t('errors.unknown')
}

/**
 * The server's field violations as problems keyed by the form's own field
 * paths. strip removes a request prefix ("user.") so "user.login" lands on
 * "login". A taken phone number becomes a message with a link to its holder.
 */
export function fieldProblems(err: unknown, strip: string[] = []): FieldProblems {
  if (!(err instanceof ApiError)) return {}
  const out: FieldProblems = {}
  for (const [raw, text] of Object.entries(err.fieldErrors)) {
    let field = raw
    for (const p of strip) if (field.startsWith(p)) field = field.slice(p.length)
    out[field] = { text: text || err.message }
  }
  if (err.reason === 'PHONE_TAKEN') {
    const customerId = err.metadata.customerId
    const number = formatPhone(err.metadata.number) || ''
    const problem: FieldProblem = customerId
      ? { key: 'customers.errors.phoneTakenBy', params: { number, customer: customerId }, customerId }
      : { key: 'customers.errors.phoneTaken', params: { number } }
    const fields = Object.keys(out)
    for (const f of fields.length > 0 ? fields : ['number']) out[f] = problem
  }
  return out
}

export function problemText(p: FieldProblem | undefined, t: Translate): string {
  if (!p) return ''
  return 'key' in p ? t(p.key, p.params) : p.text
}

/** The problems without those of the given fields (an input was edited). */
export function withoutProblems(problems: FieldProblems, ...fields: string[]): FieldProblems {
  if (!fields.some((f) => f in problems)) return problems
  return Object.fromEntries(Object.entries(problems).filter(([f]) => !fields.includes(f)))
}

/** Only the problems of the given fields. */
export function pickProblems(problems: FieldProblems, fields: string[]): FieldProblems {
  return Object.fromEntries(Object.entries(problems).filter(([f]) => fields.includes(f)))
}
