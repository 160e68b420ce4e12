// Files on task comments. Uploads are multipart and downloads are bytes,
// which the typed JSON client does not make: they go through api/raw.

import { api, ok, type Attachment } from '@/api/client'
import type { ApiError } from '@/api/errors'
import { authorizedRequest as request, defaultFetch, failure, type Fetch } from '@/api/raw'

export async function listAttachments(taskId: string): Promise<Attachment[]> {
  const data = await ok(api.GET('/api/v1/tasks/{task_id}/attachments', { params: { path: { task_id: taskId } } }))
  return data.attachments ?? []
}

/**
 * Attaches a file on a new comment whose text is commentText (the server
 * writes the comment only once the file has passed its checks).
 */
export async function uploadAttachment(taskId: string, file: File, commentText: string, fetchImpl: Fetch = defaultFetch): Promise<Attachment> {
  const form = new FormData()
  form.append('commentText', commentText)
  form.append('file', file, file.name)
  const response = await fetchImpl(request(`/api/v1/tasks/${encodeURIComponent(taskId)}/attachments`, { method: 'POST', body: form }))
  if (!response.ok) throw await failure(response)
  return (await response.json()) as Attachment
}

/** The file's (or its thumbnail's) bytes. */
export async function fetchAttachment(id: string, thumbnail: boolean, fetchImpl: Fetch = defaultFetch): Promise<Blob> {
  const path = `/api/v1/attachments/${encodeURIComponent(id)}${thumbnail ? '/thumbnail' : ''}`
  const response = await fetchImpl(request(path))
  if (!response.ok) throw await failure(response)
  return response.blob()
}

export function isImage(a: Attachment): boolean {
  return !!a.hasThumbnail
}

/** What went wrong with a file, as an i18n key and its parameters. */
export function attachmentProblem(err: ApiError): { key: string; params?: Record<string, unknown> } {
  if (err.status === 413 || err.reason === 'ATTACHMENT_TOO_LARGE') {
    const max = Number(err.metadata.maxBytes ?? 0)
    return { key: 'tasks.attachments.errors.tooLarge', params: { max: max > 0 ? Math.floor(max / 1048576) : 20 } }
  }
  switch (err.reason) {
    case 'ATTACHMENT_TYPE_REFUSED':
      return { key: 'tasks.attachments.errors.type' }
    case 'ATTACHMENT_TYPE_MISMATCH':
      return { key: 'tasks.attachments.errors.mismatch' }
    case 'ATTACHMENT_LIMIT':
      return { key: 'tasks.attachments.errors.limit' }
    case 'ATTACHMENT_EMPTY':
      return { key: 'tasks.attachments.errors.empty' }
  }
  if (err.forbidden) return { key: 'tasks.errors.forbidden' }
  return { key: 'tasks.attachments.errors.failed', params: { message: err.message } }
}

/** A size for people: 1.2 MB, 340 KB. */
export function formatSize(bytes: number): string {
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MB`
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`
  return `${bytes} B`
}
