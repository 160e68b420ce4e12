import { afterEach, describe, expect, it, vi } from 'vitest'
import { bindSession } from '@/api/client'
import { ApiError } from '@/api/errors'
import { saveDownload } from './raw'

describe('saveDownload', () => {
  afterEach(() => vi.restoreAllMocks())

  it('asks with the session and the filters set, and saves under the server’s name', async () => {
    bindSession({ token: () => 'tok', ended: () => {} })
    const seen: Request[] = []
    const fetchImpl = vi.fn(async (r: Request) => {
      seen.push(r)
      return new Response('\ufeffNo.,Title\n', {
        headers: { 'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="tasks-2026-12-03.csv"' },
      })
    })
    const clicked: HTMLAnchorElement[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this)
    })
    URL.createObjectURL = vi.fn(() => 'blob:csv')
    URL.revokeObjectURL = vi.fn()
    const name = await saveDownload('/api/v1/tasks:export', { state: 'TASK_STATE_OPEN', query: undefined, lang: 'ru' }, 'tasks.csv', fetchImpl)
    expect(name).toBe('tasks-2026-12-03.csv')
    const url = new URL(seen[0]!.url)
    expect(url.pathname).toBe('/api/v1/tasks:export')
    expect([...url.searchParams]).toEqual([
      ['state', 'TASK_STATE_OPEN'],
      ['lang', 'ru'],
    ])
    expect(seen[0]!.headers.get('Authorization')).toBe('Bearer tok')
    expect(clicked).toHaveLength(1)
    expect(clicked[0]!.download).toBe('tasks-2026-12-03.csv')
    expect(clicked[0]!.href).toBe('blob:csv')
  })

  it('throws the server’s refusal and saves nothing', async () => {
    const fetchImpl = vi.fn(async () => new Response(JSON.stringify({ code: 3, message: 'bad state' }), { status: 400 }))
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click')
    const err = await saveDownload('/api/v1/tasks:export', { state: 'X' }, 'tasks.csv', fetchImpl).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).message).toBe('bad state')
    expect(click).not.toHaveBeenCalled()
  })
})
