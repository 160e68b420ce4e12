// Tariffs: the settings list (active and deactivated), a cache for names on
// contracts, the ranking of suitable tariffs for a connection, and edits
// guarded by the etag they were read with.

import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api, ok, type CustomerKind, type Tariff } from '@/api/client'
import { asApiError, type ApiError } from '@/api/errors'

/** The fields a person edits; the mask names the ones that changed. */
export type TariffFields = Pick<Tariff, 'name' | 'customerKind' | 'technology' | 'speedMbps' | 'monthlyFee'>

/** Field names of the update mask, as the contract service spells them. */
const MASK_NAMES: Record<keyof TariffFields, string> = {
  name: 'name',
  customerKind: 'customer_kind',
  technology: 'technology',
  speedMbps: 'speed_mbps',
  monthlyFee: 'monthly_fee',
}

export interface SuggestQuery {
  customerKind: CustomerKind
  technology?: string
  minSpeedMbps?: number | null
  /** Minor units, as the API takes it. */
  maxMonthlyFee?: string | null
}

const PAGE = 100

export const useTariffsStore = defineStore('tariffs', () => {
  const tariffs = shallowRef<Tariff[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)
  const cache = new Map<string, Tariff>()
  const pending = new Map<string, Promise<Tariff>>()

  function remember(t: Tariff): void {
    if (t.id) cache.set(t.id, t)
  }

  /** Every tariff, deactivated ones too (a short list: all pages at once). */
  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const all: Tariff[] = []
      let token = ''
      do {
        const res = await ok(api.GET('/api/v1/tariffs', { params: { query: { includeInactive: true, pageSize: PAGE, pageToken: token || undefined } } }))
        all.push(...(res.tariffs ?? []))
        token = res.nextPageToken ?? ''
      } while (token)
      all.forEach(remember)
      tariffs.value = all
      loaded.value = true
    } catch (e) {
      error.value = asApiError(e)
    } finally {
      loading.value = false
    }
  }

  /** One tariff, from the cache when it was read before. */
  async function get(id: string): Promise<Tariff> {
    const known = cache.get(id)
    if (known) return known
    let p = pending.get(id)
    if (!p) {
      p = ok(api.GET('/api/v1/tariffs/{id}', { params: { path: { id } } }))
        .then((t) => {
          remember(t)
          return t
        })
        .finally(() => pending.delete(id))
      pending.set(id, p)
    }
    return p
  }

  function cached(id: string | undefined): Tariff | undefined {
    return id ? cache.get(id) : undefined
  }

  function put(t: Tariff): void {
    remember(t)
    const i = tariffs.value.findIndex((x) => x.id === t.id)
    tariffs.value = i < 0 ? [...tariffs.value, t] : tariffs.value.map((x) => (x.id === t.id ? t : x))
  }

  async function create(fields: TariffFields): Promise<Tariff> {
    const created = await ok(api.POST('/api/v1/tariffs', { body: { ...fields, active: true } }))
    put(created)
    return created
  }

  /** Saves the named fields; a tariff changed meanwhile is refused (409). */
  async function update(t: Tariff, fields: TariffFields, changed: (keyof TariffFields)[]): Promise<Tariff> {
    const id = t.id ?? ''
    const updated = await ok(
      api.PATCH('/api/v1/tariffs/{id}', {
        params: { path: { id }, query: { updateMask: changed.map((f) => MASK_NAMES[f]).join(',') } },
        body: { ...fields, etag: t.etag },
      }),
    )
    put(updated)
    return updated
  }

  /** Takes a tariff off (or back on) the offer; contracts on it keep it. */
  async function setActive(t: Tariff, active: boolean): Promise<Tariff> {
    const updated = await ok(
      api.PATCH('/api/v1/tariffs/{id}', {
        params: { path: { id: t.id ?? '' }, query: { updateMask: 'active' } },
        body: { name: t.name, technology: t.technology, speedMbps: t.speedMbps, monthlyFee: t.monthlyFee, active, etag: t.etag },
      }),
    )
    put(updated)
    return updated
  }

  /** The active tariffs that fit, best (cheapest) first. */
  async function suggest(q: SuggestQuery): Promise<Tariff[]> {
    const res = await ok(
      api.GET('/api/v1/tariffs:suggest', {
        params: {
          query: {
            customerKind: q.customerKind,
            technology: q.technology?.trim() || undefined,
            minSpeedMbps: q.minSpeedMbps || undefined,
            maxMonthlyFee: q.maxMonthlyFee ?? undefined,
          },
        },
      }),
    )
    const out = res.tariffs ?? []
    out.forEach(remember)
    return out
  }

  return { tariffs, loading, loaded, error, load, get, cached, create, update, setActive, suggest }
})
