import { describe, expect, it } from 'vitest'
import { ApiError, RpcCode } from '@/api/errors'
import { useAsyncContent } from './useAsyncContent'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('useAsyncContent', () => {
  it('is loading until the read answers, then holds the data', async () => {
    const d = deferred<string>()
    const state = useAsyncContent(() => d.promise)
    const done = state.load()
    expect(state.loading).toBe(true)
    expect(state.data).toBeNull()
    d.resolve('five')
    await done
    expect(state).toMatchObject({ loading: false, data: 'five', error: null, notFound: false })
  })

  it('tells "not found" apart from other failures', async () => {
    const state = useAsyncContent(() => Promise.reject(new ApiError({ status: 404, code: RpcCode.NotFound, message: 'no such task' })))
    await state.load()
    expect(state.notFound).toBe(true)
    expect(state.error?.status).toBe(404)

    const broken = useAsyncContent(() => Promise.reject(new ApiError({ status: 503, code: RpcCode.Unavailable, message: 'down' })))
    await broken.load()
    expect(broken.notFound).toBe(false)
    expect(broken.error?.status).toBe(503)
  })

  it('keeps the data on screen when a refresh fails and gives the error', async () => {
    let fail = false
    const state = useAsyncContent(() => (fail ? Promise.reject(new Error('offline')) : Promise.resolve(1)))
    await state.load()
    fail = true
    const err = await state.refresh()
    expect(err).not.toBeNull()
    expect(state.data).toBe(1)
    expect(state.error).toBe(err)
  })

  it('lets the newer read win over an older one still on its way', async () => {
    const first = deferred<string>()
    const second = deferred<string>()
    const answers = [first.promise, second.promise]
    const state = useAsyncContent(() => answers.shift()!)
    const a = state.load()
    const b = state.load()
    second.resolve('new')
    await b
    first.resolve('old')
    await a
    expect(state.data).toBe('new')
    expect(state.loading).toBe(false)
  })

  it('takes a value set by the screen over a read still running', async () => {
    const d = deferred<number>()
    const state = useAsyncContent(() => d.promise)
    const running = state.load()
    state.set(7)
    d.resolve(3)
    await running
    expect(state.data).toBe(7)
    expect(state.loading).toBe(false)
  })
})
