import { describe, expect, it } from 'vitest'
import { ApiError, asApiError, RpcCode, toApiError } from './errors'
import { describeError, fieldProblems } from './problems'

const en = (key: string) => key

describe('toApiError', () => {
  it('reads field violations and the reason of a taken phone', () => {
    const err = toApiError(409, {
      code: 6,
      message: 'the number +79123456789 is taken by customer 12',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: 'phones[1].number', description: 'the number +79123456789 is taken by customer 12' }],
        },
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'PHONE_TAKEN', domain: 'crm', metadata: { customerId: '12', number: '+79123456789' } },
      ],
    })
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(409)
    expect(err.code).toBe(RpcCode.AlreadyExists)
    expect(err.fieldErrors).toEqual({ 'phones[1].number': 'the number +79123456789 is taken by customer 12' })
    expect(err.reason).toBe('PHONE_TAKEN')
    expect(err.metadata).toEqual({ customerId: '12', number: '+79123456789' })
    expect(err.stale).toBe(false)
  })

  it('keeps the first violation of a field and ignores unknown details', () => {
    const err = toApiError(400, {
      code: 3,
      message: 'bad',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [
            { field: 'name', description: 'first' },
            { field: 'name', description: 'second' },
          ],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
        'garbage',
      ],
    })
    expect(err.fieldErrors).toEqual({ name: 'first' })
    expect(err.reason).toBe('')
  })

  it('tells a stale etag by its reason or by ABORTED', () => {
    expect(
      toApiError(409, { code: 10, message: 'changed', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'STALE_ETAG' }] }).stale,
    ).toBe(true)
    expect(toApiError(409, { code: 10, message: 'changed' }).stale).toBe(true)
  })

  it('reads how long a throttled sign-in must wait', () => {
    const err = toApiError(429, {
      code: 8,
      message: 'too many failed sign-ins; wait 2 min before trying again',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '90s' },
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SIGN_IN_THROTTLED', metadata: { retryAfterSeconds: '90' } },
      ],
    })
    expect(err.throttled).toBe(true)
    expect(err.retryAfterSeconds).toBe(90)
    expect(describeError(err, (k, p) => `${k} ${JSON.stringify(p ?? {})}`)).toBe('errors.throttledFor {"time":"1:30"}')
  })

  it('copes with a body that is not a Status (a proxy page)', () => {
    const err = toApiError(502, '<html>Bad gateway</html>')
    expect(err.status).toBe(502)
    expect(err.code).toBe(RpcCode.Internal)
    expect(err.fieldErrors).toEqual({})
  })

  it('turns a failed fetch into a network error', () => {
    const err = asApiError(new TypeError('Failed to fetch'))
    expect(err.network).toBe(true)
    expect(err.code).toBe(RpcCode.Unavailable)
  })
})

describe('fieldProblems', () => {
  it('puts a taken phone on its row with a link to the holder', () => {
    const err = toApiError(409, {
      code: 6,
      message: 'taken',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'phones[1].number', description: 'taken' }] },
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'PHONE_TAKEN', metadata: { customerId: '12', number: '+79123456789' } },
      ],
    })
    expect(fieldProblems(err)).toEqual({
      'phones[1].number': { key: 'customers.errors.phoneTakenBy', params: { number: '+7 912 345-67-89', customer: '12' }, customerId: '12' },
    })
  })

  it('strips the request prefix of a field path', () => {
    const err = toApiError(409, {
      code: 6,
      message: 'login taken',
      details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'user.login', description: 'login taken' }] }],
    })
    expect(fieldProblems(err, ['user.'])).toEqual({ login: { text: 'login taken' } })
  })
})

describe('describeError', () => {
  it('uses words of the console for generic failures and the server’s for specific ones', () => {
    expect(describeError(asApiError(new TypeError('x')), en)).toBe('errors.network')
    expect(describeError(toApiError(403, { code: 7, message: 'denied' }), en)).toBe('errors.forbidden')
    expect(describeError(toApiError(500, { code: 13, message: 'internal error' }), en)).toBe('errors.server')
    expect(describeError(toApiError(400, { code: 9, message: 'a customer keeps at least one phone' }), en)).toBe('a customer keeps at least one phone')
  })
})
