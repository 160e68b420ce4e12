// What the gateway tells the console about its surroundings: where the
// Temporal Web UI is, so a task links to its workflow, and whether the
// gateway serves it (then the link takes a ticket first: see
// useWorkflowLink). Read once; when it cannot be read the links are simply
// not shown.

import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { asApiError, type ApiError } from '@/api/errors'

export interface ConsoleConfig {
  temporalUiUrl: string
  /** The UI is the gateway's /temporal/, opened with a ticket. */
  temporalUiTicket: boolean
  temporalNamespace: string
}

function parse(v: unknown): ConsoleConfig {
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {}
  return {
    temporalUiUrl: typeof o.temporalUiUrl === 'string' ? o.temporalUiUrl.replace(/\/+$/, '') : '',
    temporalUiTicket: o.temporalUiTicket === true,
    temporalNamespace: typeof o.temporalNamespace === 'string' && o.temporalNamespace ? o.temporalNamespace : 'default',
  }
}

export const useConsoleConfigStore = defineStore('consoleConfig', () => {
  const temporalUiUrl = ref('')
  const temporalUiTicket = ref(false)
  const temporalNamespace = ref('default')
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)
  let inflight: Promise<void> | null = null

  async function fetchConfig(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const url = new URL('/console-config.json', globalThis.location?.origin ?? 'http://localhost')
      const res = await globalThis.fetch(new Request(url, { headers: { Accept: 'application/json' } }))
      // A gateway without it answers the console's index page: not JSON.
      if (!res.ok || !(res.headers.get('Content-Type') ?? '').includes('json')) return
      const cfg = parse(await res.json())
      temporalUiUrl.value = cfg.temporalUiUrl
      temporalUiTicket.value = cfg.temporalUiTicket
      temporalNamespace.value = cfg.temporalNamespace
    } catch (e) {
      // no link then; loaded stays true so it is not asked again
      error.value = asApiError(e)
    } finally {
      loaded.value = true
      loading.value = false
    }
  }

  async function load(): Promise<void> {
    if (loaded.value) return
    inflight ??= fetchConfig().finally(() => (inflight = null))
    await inflight
  }

  /** The workflow's page in the Temporal Web UI; '' when the UI is unknown. */
  function workflowUrl(workflowId: string | undefined): string {
    if (!temporalUiUrl.value || !workflowId) return ''
    return `${temporalUiUrl.value}/namespaces/${encodeURIComponent(temporalNamespace.value)}/workflows/${encodeURIComponent(workflowId)}`
  }

  return { temporalUiUrl, temporalUiTicket, temporalNamespace, loading, loaded, error, load, workflowUrl }
})
