// Calls the typed JSON client does not make — multipart uploads, a file sent
// as the body itself, file and CSV downloads: plain fetch with the session's
// token, errors read as every other call's (ApiError).

import { sessionToken } from '@/api/client'
import { toApiError, type ApiError } from '@/api/errors'

export type Fetch = (input: Request) => Promise<Response>

// Looked up on every call, so tests may stub the global fetch.
export const defaultFetch: Fetch = (input) => globalThis.fetch(input)

/** A request to the console's own server with the session's token. */
export function authorizedRequest(path: string, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers)
  const token = sessionToken()
  if (token) headers.set('Authorization', `Bearer ${token}`)
  return new Request(new URL(path, globalThis.location?.origin ?? 'http://localhost'), { ...init, headers })
}

/** The error an answer that is not ok carries. */
export async function failure(response: Response): Promise<ApiError> {
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // a proxy's page: keep the text
  }
  return toApiError(response.status, body)
}

/** The file name an answer's Content-Disposition gives, or fallback. */
export function attachmentName(response: Response, fallback: string): string {
  const m = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')
  return m?.[1] ?? fallback
}

/** path with the query's values that are set (empty ones left out). */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v)
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/**
 * Posts bytes as the request's body itself — a file the server reads as it
 * is, not a form — with the given Content-Type, and gives the JSON answer.
 */
export async function postFile<T>(
  path: string,
  query: Record<string, string | undefined>,
  body: Blob,
  contentType: string,
  fetchImpl: Fetch = defaultFetch,
): Promise<T> {
  const response = await fetchImpl(authorizedRequest(withQuery(path, query), { method: 'POST', body, headers: { 'Content-Type': contentType } }))
  if (!response.ok) throw await failure(response)
  return (await response.json()) as T
}

/**
 * Downloads path (with its query) and hands it to the browser as a saved
 * file, named as the server says.
 */
export async function saveDownload(
  path: string,
  query: Record<string, string | undefined>,
  fallbackName: string,
  fetchImpl: Fetch = defaultFetch,
): Promise<string> {
  const response = await fetchImpl(authorizedRequest(withQuery(path, query)))
  if (!response.ok) throw await failure(response)
  const name = attachmentName(response, fallbackName)
  saveBlob(await response.blob(), name)
  return name
}

/** Hands bytes the console holds to the browser as a saved file. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  try {
    const a = document.createElement('a')
    a.href = url
    a.download = name
    document.body.append(a)
    a.click()
    a.remove()
  } finally {
    // the click has started the save; the next turn frees the bytes
    setTimeout(() => URL.revokeObjectURL(url), 0)
  }
}
