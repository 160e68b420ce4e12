// Routes: the ordered processes tasks move through, with their close rules.
// The list is read once and shared (filters, the board, the service-task
// form); an edit names the version it was made on, so a stale one is refused.

import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { api, ok, type Route } from '@/api/client'
import { asApiError, type ApiError } from '@/api/errors'

/** Route No. 1: connection tasks only. */
export const CONNECTION_ROUTE_ID = '1'

export const useRoutesStore = defineStore('routes', () => {
  const routes = shallowRef<Route[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)
  let inflight: Promise<void> | null = null

  async function fetchAll(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const res = await ok(api.GET('/api/v1/routes'))
      routes.value = res.routes ?? []
      loaded.value = true
    } catch (e) {
      error.value = asApiError(e)
    } finally {
      loading.value = false
    }
  }

  /** Loads the list (once unless forced); concurrent callers share the call. */
  async function load(force = false): Promise<void> {
    if (loaded.value && !force) return
    inflight ??= fetchAll().finally(() => (inflight = null))
    await inflight
  }

  /** Routes a service task may be opened on (all but No. 1). */
  const serviceRoutes = computed(() => routes.value.filter((r) => !r.connection && r.id !== CONNECTION_ROUTE_ID))

  function byId(id: string | undefined): Route | undefined {
    return routes.value.find((r) => r.id === id)
  }

  function put(r: Route): void {
    const i = routes.value.findIndex((x) => x.id === r.id)
    routes.value = i < 0 ? [...routes.value, r] : routes.value.map((x) => (x.id === r.id ? r : x))
  }

  async function get(id: string): Promise<Route> {
    const r = await ok(api.GET('/api/v1/routes/{id}', { params: { path: { id } } }))
    put(r)
    return r
  }

  async function create(route: Route): Promise<Route> {
    const created = await ok(api.POST('/api/v1/routes', { body: route }))
    put(created)
    return created
  }

  /** Saves a new version; expectedVersion is the one the editor started from. */
  async function update(id: string, route: Route, expectedVersion: number): Promise<Route> {
    const updated = await ok(
      api.PATCH('/api/v1/routes/{id}', {
        params: { path: { id }, query: { expectedVersion } },
        body: { ...route, id },
      }),
    )
    put(updated)
    return updated
  }

  return { routes, loading, loaded, error, load, serviceRoutes, byId, get, create, update }
})
