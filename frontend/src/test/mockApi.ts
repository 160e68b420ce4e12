// A small stand-in for the gateway in unit tests: handlers by method and
// path pattern, answering JSON; every request is recorded for assertions.
import { File as NodeFile } from 'node:buffer'
import { vi } from 'vitest'

export interface Recorded {
  method: string
  path: string
  query: URLSearchParams
  headers: Headers
  body: unknown
}

type Handler = (req: Recorded, params: Record<string, string>) => unknown | Response | Promise<unknown | Response>

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

/** A google.rpc.Status error answer. */
export function rpcError(
  status: number,
  code: number,
  message: string,
  opts: { fields?: Record<string, string>; reason?: string; metadata?: Record<string, string> } = {},
): Response {
  const details: unknown[] = []
  if (opts.fields)
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: Object.entries(opts.fields).map(([field, description]) => ({ field, description })),
    })
  if (opts.reason) details.push({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: opts.reason, domain: 'crm', metadata: opts.metadata ?? {} })
  return json(status, { code, message, details })
}

/**
 * A file as a person chooses it. Node's own: the test DOM's File is not a
 * body Node's fetch can send, a browser's is.
 */
export function chosenFile(text: string, name: string, type = 'text/csv'): File {
  return new NodeFile([text], name, { type }) as unknown as File
}

/** A JSON body as its value; any other (a file sent as it is) as its text. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function mockApi(routes: Record<string, Handler>) {
  const calls: Recorded[] = []
  const compiled = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(' ') as [string, string]
    const names: string[] = []
    const re = new RegExp(
      `^${pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => {
        names.push(n)
        return '([^/]+)'
      })}$`,
    )
    return { method, re, names, handler }
  })

  const fetch = vi.fn(async (input: Request) => {
    const url = new URL(input.url)
    const text = input.body ? await input.text() : ''
    const rec: Recorded = {
      method: input.method,
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: input.headers,
      body: text ? parsed(text) : undefined,
    }
    calls.push(rec)
    for (const r of compiled) {
      if (r.method !== rec.method) continue
      const m = r.re.exec(rec.path)
      if (!m) continue
      const params = Object.fromEntries(r.names.map((n, i) => [n, m[i + 1] ?? '']))
      const out = await r.handler(rec, params)
      return out instanceof Response ? out : json(200, out ?? {})
    }
    return rpcError(404, 5, `no mock for ${rec.method} ${rec.path}`)
  })
  vi.stubGlobal('fetch', fetch)
  return { calls, fetch }
}

export const ADMIN_ME = {
  user: { id: '1', login: 'admin', displayName: 'Anna Admin', active: true, roles: ['admin'] },
  roles: ['admin'],
  permissions: [
    'customers.read',
    'customers.write',
    'contracts.read',
    'contracts.write',
    'tasks.read',
    'tasks.create',
    'tasks.work',
    'tasks.manage',
    'settings.read',
    'settings.write',
    'users.manage',
    'integrations.manage',
  ],
  groups: [{ id: '1', name: 'Sales' }],
  telegramLinked: false,
  profile: { displayName: 'Anna Admin', language: 'en', notifySelf: false },
}

export const VIEWER_ME = {
  user: { id: '7', login: 'victor', displayName: 'Victor Viewer', active: true, roles: ['viewer'] },
  roles: ['viewer'],
  permissions: ['customers.read', 'contracts.read', 'tasks.read', 'settings.read'],
  groups: [],
  telegramLinked: false,
  profile: { displayName: 'Victor Viewer', language: 'en', notifySelf: false },
}
