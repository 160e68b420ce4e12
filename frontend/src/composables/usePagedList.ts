// A keyset-paged list: the first page on reload(), the next on loadMore()
// with the server's nextPageToken. Answers to an older reload (the user typed
// on) are dropped, so a slow response never overwrites a newer one.

import { computed, reactive, ref, shallowRef, type Ref } from 'vue'
import { asApiError, type ApiError } from '@/api/errors'

export interface Page<T> {
  items: T[]
  nextPageToken?: string
}

export function usePagedList<T>(fetchPage: (pageToken: string) => Promise<Page<T>>) {
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const nextPageToken = ref('')
  const loading = ref(false)
  const loadingMore = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)
  let generation = 0

  async function reload(): Promise<void> {
    const mine = ++generation
    loading.value = true
    loadingMore.value = false
    error.value = null
    try {
      const page = await fetchPage('')
      if (mine !== generation) return
      items.value = page.items
      nextPageToken.value = page.nextPageToken ?? ''
      loaded.value = true
    } catch (e) {
      if (mine !== generation) return
      error.value = asApiError(e)
      items.value = []
      nextPageToken.value = ''
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextPageToken.value || loading.value || loadingMore.value) return
    const mine = generation
    loadingMore.value = true
    error.value = null
    try {
      const page = await fetchPage(nextPageToken.value)
      if (mine !== generation) return
      items.value = [...items.value, ...page.items]
      nextPageToken.value = page.nextPageToken ?? ''
    } catch (e) {
      if (mine !== generation) return
      error.value = asApiError(e)
    } finally {
      if (mine === generation) loadingMore.value = false
    }
  }

  /** Replaces one loaded item in place (after an edit elsewhere). */
  function replace(match: (item: T) => boolean, next: T): void {
    items.value = items.value.map((it) => (match(it) ? next : it))
  }

  function prepend(item: T): void {
    items.value = [item, ...items.value]
  }

  function clear(): void {
    generation++
    items.value = []
    nextPageToken.value = ''
    loading.value = false
    loadingMore.value = false
    loaded.value = false
    error.value = null
  }

  const hasMore = computed(() => nextPageToken.value !== '')

  // One reactive object: its fields read as plain values in templates and stores.
  return reactive({ items, nextPageToken, hasMore, loading, loadingMore, loaded, error, reload, loadMore, replace, prepend, clear })
}

/** What a screen reads of a paged list (usePagedList's answer fits it). */
export interface PagedView<T> {
  readonly items: T[]
  readonly loading: boolean
  readonly loadingMore: boolean
  readonly loaded: boolean
  readonly hasMore: boolean
  readonly error: ApiError | null
  reload(): Promise<void>
  loadMore(): Promise<void>
}
