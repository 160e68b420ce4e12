import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { useConsoleConfigStore } from './consoleConfig'

function serve(body: string, type: string) {
  const fetch = vi.fn(async () => new Response(body, { status: 200, headers: { 'Content-Type': type } }))
  vi.stubGlobal('fetch', fetch)
  return fetch
}

describe('the console configuration', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('links a task to its workflow in the Temporal Web UI', async () => {
    const fetch = serve(JSON.stringify({ temporalUiUrl: 'http://temporal.example:8233/', temporalNamespace: 'crm' }), 'application/json')
    const store = useConsoleConfigStore()
    await Promise.all([store.load(), store.load()])
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(store.workflowUrl('task-12')).toBe('http://temporal.example:8233/namespaces/crm/workflows/task-12')
    expect(store.workflowUrl('')).toBe('')
  })

  it('links to the UI the gateway serves, to be opened with a ticket', async () => {
    serve(JSON.stringify({ temporalUiUrl: '/temporal', temporalUiTicket: true, temporalNamespace: 'crm' }), 'application/json')
    const store = useConsoleConfigStore()
    await store.load()
    expect(store.temporalUiTicket).toBe(true)
    expect(store.workflowUrl('task-12')).toBe('/temporal/namespaces/crm/workflows/task-12')
  })

  it('needs no ticket for a UI of its own', async () => {
    serve(JSON.stringify({ temporalUiUrl: 'http://127.0.0.1:8233', temporalUiTicket: 'yes', temporalNamespace: 'crm' }), 'application/json')
    const store = useConsoleConfigStore()
    await store.load()
    expect(store.temporalUiTicket).toBe(false)
  })

  it('shows no link when the UI address is empty', async () => {
    serve(JSON.stringify({ temporalUiUrl: '', temporalNamespace: 'default' }), 'application/json')
    const store = useConsoleConfigStore()
    await store.load()
    expect(store.workflowUrl('task-12')).toBe('')
  })

  it('shows no link when the gateway answers its index page instead', async () => {
    serve('<!doctype html><html></html>', 'text/html; charset=utf-8')
    const store = useConsoleConfigStore()
    await store.load()
    expect(store.loaded).toBe(true)
    expect(store.workflowUrl('task-12')).toBe('')
  })

  it('keeps the failure in error when the configuration cannot be fetched', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch')
      }),
    )
    const store = useConsoleConfigStore()
    await store.load()
    expect(store.loading).toBe(false)
    expect(store.loaded).toBe(true)
    expect(store.error?.message).toBe('Failed to fetch')
    expect(store.workflowUrl('task-12')).toBe('')
  })
})
