// The gateway answers every failure as google.rpc.Status JSON. ApiError is
// that status made usable by the console: the HTTP status, the gRPC code, the
// message for people, the violated request fields keyed by their path
// ("phones[1].number") and the machine-readable reason with its facts.

import type { components } from './schema'

export type RpcStatus = components['schemas']['google.rpc.Status']

const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest'
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo'
const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo'

/** gRPC codes the console tells apart. */
export const RpcCode = {
  Cancelled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached at all. */
  readonly status: number
  /** google.rpc.Code of the answer. */
  readonly code: number
  /** Violated request fields → what is wrong with each (first one wins). */
  readonly fieldErrors: Readonly<Record<string, string>>
  /** ErrorInfo.reason, e.g. "PHONE_TAKEN"; empty when the server gave none. */
  readonly reason: string
  /** ErrorInfo.metadata, e.g. { customerId: "12" }. */
  readonly metadata: Readonly<Record<string, string>>
  /** RetryInfo: how many seconds to wait before trying again (0 when not said). */
  readonly retryAfterSeconds: number

  constructor(init: {
    status: number
    code: number
    message: string
    fieldErrors?: Record<string, string>
    reason?: string
    metadata?: Record<string, string>
    retryAfterSeconds?: number
  }) {
    super(init.message)
    this.name = 'ApiError'
    this.status = init.status
    this.code = init.code
    this.fieldErrors = init.fieldErrors ?? {}
    this.reason = init.reason ?? ''
    this.metadata = init.metadata ?? {}
    this.retryAfterSeconds = init.retryAfterSeconds ?? 0
  }

  /** The session is gone (or the login was wrong). */
  get unauthenticated(): boolean {
    return this.status === 401
  }

  get forbidden(): boolean {
    return this.status === 403
  }

  get notFound(): boolean {
    return this.status === 404
  }

  /** Someone else changed the object since it was read (a stale etag). */
  get stale(): boolean {
    return this.reason === 'STALE_ETAG' || (this.status === 409 && this.code === RpcCode.Aborted)
  }

  /** Too many attempts: wait retryAfterSeconds. */
  get throttled(): boolean {
    return this.status === 429 || this.code === RpcCode.ResourceExhausted
  }

  /** The server could not be reached or did not answer in time. */
  get network(): boolean {
    return this.status === 0
  }

  /** Field errors whose path starts with prefix, with the prefix cut off. */
  fieldsUnder(prefix: string): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [field, text] of Object.entries(this.fieldErrors)) {
      if (field.startsWith(prefix)) out[field.slice(prefix.length)] = text
    }
    return out
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!isRecord(v)) return out
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') out[k] = val
  }
  return out
}

/** The gRPC code a bare HTTP status stands for (when the body is not a Status). */
export function codeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return RpcCode.InvalidArgument
    case 401:
      return RpcCode.Unauthenticated
    case 403:
      return RpcCode.PermissionDenied
    case 404:
      return RpcCode.NotFound
    case 409:
      return RpcCode.AlreadyExists
    case 429:
      return RpcCode.ResourceExhausted
    case 503:
      return RpcCode.Unavailable
    case 504:
      return RpcCode.DeadlineExceeded
    default:
      return status >= 500 ? RpcCode.Internal : RpcCode.Unknown
  }
}

/**
 * Builds an ApiError from an error answer. body is the parsed JSON (or text)
 * of the answer; anything that is not a google.rpc.Status still gives an
 * error with the HTTP status and a generic message.
 */
export function toApiError(status: number, body: unknown): ApiError {
  if (!isRecord(body)) {
    const text = typeof body === 'string' && body.trim() !== '' ? body.trim() : `HTTP ${status}`
    return new ApiError({ status, code: codeForHttpStatus(status), message: text })
  }
  const fieldErrors: Record<string, string> = {}
  let reason = ''
  let metadata: Record<string, string> = {}
  let retryAfterSeconds = 0
  const details = Array.isArray(body.details) ? body.details : []
  for (const d of details) {
    if (!isRecord(d)) continue
    if (d['@type'] === BAD_REQUEST && Array.isArray(d.fieldViolations)) {
      for (const v of d.fieldViolations) {
        if (!isRecord(v) || typeof v.field !== 'string') continue
        const description = typeof v.description === 'string' ? v.description : ''
        if (!(v.field in fieldErrors)) fieldErrors[v.field] = description
      }
    } else if (d['@type'] === RETRY_INFO && typeof d.retryDelay === 'string') {
      // protojson writes a Duration as seconds with an "s": "90s", "1.5s".
      const secs = Number.parseFloat(d.retryDelay)
      if (Number.isFinite(secs) && secs > 0) retryAfterSeconds = Math.ceil(secs)
    } else if (d['@type'] === ERROR_INFO && reason === '') {
      reason = typeof d.reason === 'string' ? d.reason : ''
      metadata = stringMap(d.metadata)
    }
  }
  const code = typeof body.code === 'number' ? body.code : codeForHttpStatus(status)
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : `HTTP ${status}`
  return new ApiError({ status, code, message, fieldErrors, reason, metadata, retryAfterSeconds })
}

/** Wraps anything thrown into an ApiError (a failed fetch is a network error). */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new ApiError({ status: 0, code: RpcCode.Unavailable, message })
}
