import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi, rpcError } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import TaskAttachments from './TaskAttachments.vue'

const FILES = [
  { id: '1', taskId: '9', commentId: '70', fileName: 'cabinet.jpg', contentType: 'image/jpeg', sizeBytes: '204800', hasThumbnail: true, uploaderName: 'Anna' },
  {
    id: '2',
    taskId: '9',
    commentId: '70',
    fileName: 'act.pdf',
    contentType: 'application/pdf',
    sizeBytes: '1048576',
    hasThumbnail: false,
    uploaderName: 'Anna',
  },
]

describe('the task files', () => {
  it('shows a thumbnail for an image and a download for a document', async () => {
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:thumb', revokeObjectURL: () => {} }))
    const { calls } = mockApi({
      'GET /api/v1/auth/me': () => ADMIN_ME,
      'GET /api/v1/tasks/{task_id}/attachments': () => ({ attachments: FILES }),
      'GET /api/v1/attachments/{id}/thumbnail': () => new Response('jpeg'),
    })
    const { wrapper } = mountWith(TaskAttachments, { props: { taskId: '9', canAttach: false }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=attachment] img').attributes('src')).toBe('blob:thumb'))
    const items = wrapper.findAll('[data-testid=attachment]')
    expect(items).toHaveLength(2)
    expect(items[0]!.find('img').attributes('src')).toBe('blob:thumb')
    expect(items[1]!.find('img').exists()).toBe(false)
    expect(items[1]!.text()).toContain('act.pdf')
    expect(items[1]!.text()).toContain('1.0 MB')
    expect(calls.filter((c) => c.path.endsWith('/thumbnail')).map((c) => c.path)).toEqual(['/api/v1/attachments/1/thumbnail'])
    expect(wrapper.find('[data-testid=attachment-drop]').exists()).toBe(false)
  })

  it('offers the drop zone to those who may comment and words a failed read', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME, 'GET /api/v1/tasks/{task_id}/attachments': () => rpcError(503, 14, 'try again') })
    const { wrapper } = mountWith(TaskAttachments, { props: { taskId: '9', canAttach: true }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.get('[data-testid=attachment-error]').text()).toContain('The files could not be read'))
    expect(wrapper.find('[data-testid=attachment-drop]').exists()).toBe(true)
  })
})
