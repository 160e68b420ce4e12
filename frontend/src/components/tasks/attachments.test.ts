import { describe, expect, it, vi } from 'vitest'
import { bindSession } from '@/api/client'
import { ApiError } from '@/api/errors'
import { rpcError } from '@/test/mockApi'
import { attachmentProblem, fetchAttachment, formatSize, uploadAttachment } from './attachments'

describe('attachments', () => {
  it('uploads the comment text before the file, with the session token', async () => {
    bindSession({ token: () => 'tok', ended: () => {} })
    let seen: Request | undefined
    let body = ''
    const fetchImpl = vi.fn(async (r: Request) => {
      seen = r
      body = await r.text()
      return new Response(JSON.stringify({ id: '5', fileName: 'photo.jpg' }), { status: 201 })
    })
    const file = new File([new Uint8Array([0xff, 0xd8, 0xff])], 'photo.jpg', { type: 'image/jpeg' })
    const got = await uploadAttachment('9', file, 'photo.jpg', fetchImpl)
    expect(got.id).toBe('5')
    expect(seen?.method).toBe('POST')
    expect(new URL(seen!.url).pathname).toBe('/api/v1/tasks/9/attachments')
    expect(seen?.headers.get('Authorization')).toBe('Bearer tok')
    expect(seen?.headers.get('Content-Type')).toMatch(/^multipart\/form-data; boundary=/)
    const comment = body.indexOf('name="commentText"')
    // (jsdom's File loses its name on the way into fetch's FormData; a browser keeps it)
    const part = body.indexOf('name="file"; filename=')
    expect(comment).toBeGreaterThan(-1)
    expect(part).toBeGreaterThan(comment)
  })

  it('reads a refusal as an ApiError with its reason', async () => {
    const fetchImpl = async () => rpcError(400, 3, 'mismatch', { reason: 'ATTACHMENT_TYPE_MISMATCH' })
    const err = await uploadAttachment('9', new File(['x'], 'a.pdf'), 'a.pdf', fetchImpl).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(attachmentProblem(err as ApiError)).toEqual({ key: 'tasks.attachments.errors.mismatch' })
  })

  it('words each refusal, a 413 without details too', () => {
    const e = (status: number, reason = '', metadata: Record<string, string> = {}) => new ApiError({ status, code: 3, message: 'no', reason, metadata })
    expect(attachmentProblem(e(413))).toEqual({ key: 'tasks.attachments.errors.tooLarge', params: { max: 20 } })
    expect(attachmentProblem(e(413, 'ATTACHMENT_TOO_LARGE', { maxBytes: String(5 * 1048576) }))).toEqual({
      key: 'tasks.attachments.errors.tooLarge',
      params: { max: 5 },
    })
    expect(attachmentProblem(e(400, 'ATTACHMENT_TYPE_REFUSED')).key).toBe('tasks.attachments.errors.type')
    expect(attachmentProblem(e(400, 'ATTACHMENT_LIMIT')).key).toBe('tasks.attachments.errors.limit')
    expect(attachmentProblem(e(400, 'ATTACHMENT_EMPTY')).key).toBe('tasks.attachments.errors.empty')
    expect(attachmentProblem(e(403)).key).toBe('tasks.errors.forbidden')
    expect(attachmentProblem(e(500)).key).toBe('tasks.attachments.errors.failed')
  })

  it('fetches a thumbnail by its own path and fails as an ApiError', async () => {
    const paths: string[] = []
    const fetchImpl = async (r: Request) => {
      paths.push(new URL(r.url).pathname)
      return paths.length === 1 ? new Response('jpeg') : rpcError(404, 5, 'attachment 8 does not exist')
    }
    expect(await (await fetchAttachment('7', true, fetchImpl)).text()).toBe('jpeg')
    const err = await fetchAttachment('8', false, fetchImpl).catch((e: unknown) => e)
    expect((err as ApiError).notFound).toBe(true)
    expect(paths).toEqual(['/api/v1/attachments/7/thumbnail', '/api/v1/attachments/8'])
  })

  it('gives sizes in words people read', () => {
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(2048)).toBe('2 KB')
    expect(formatSize(3 * 1048576 + 200000)).toBe('3.2 MB')
  })
})
