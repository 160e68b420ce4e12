// The one way a screen reads what it shows: the data once read, whether a
// read is under way, and why the last one failed (with "not found" told
// apart, since it needs words of its own rather than a retry). A newer read
// wins over an older one still on its way, so a quick change of address
// never shows the previous page's answer. <AsyncContent> draws the four
// states the same way on every screen.

import { computed, reactive, shallowRef, type ShallowRef } from 'vue'
import { asApiError, type ApiError } from '@/api/errors'

export interface AsyncContent<T> {
  /** What the last successful read gave; kept while a refresh runs. */
  readonly data: T | null
  /** A read is under way. */
  readonly loading: boolean
  /** Why the last read failed; cleared by the next successful one. */
  readonly error: ApiError | null
  /** The last read failed because the thing does not exist. */
  readonly notFound: boolean
  /** Reads from scratch: the screen shows the loading state until done. */
  load(): Promise<void>
  /** Reads again keeping what is shown; gives the error when it failed. */
  refresh(): Promise<ApiError | null>
  /** Puts a value the screen already has (the answer to a command). */
  set(value: T): void
  /** Forgets what was read (the screen shows something else now). */
  reset(): void
}

export function useAsyncContent<T>(read: () => Promise<T>, options: { immediate?: boolean } = {}): AsyncContent<T> {
  const data: ShallowRef<T | null> = shallowRef(null)
  const loading = shallowRef(false)
  const error = shallowRef<ApiError | null>(null)
  let generation = 0

  async function run(keep: boolean): Promise<ApiError | null> {
    const mine = ++generation
    loading.value = true
    if (!keep) {
      data.value = null
      error.value = null
    }
    try {
      const value = await read()
      if (mine !== generation) return null
      data.value = value
      error.value = null
      return null
    } catch (e) {
      const err = asApiError(e)
      if (mine === generation) error.value = err
      return err
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  const state = reactive({
    data,
    loading,
    error,
    notFound: computed(() => error.value?.notFound === true),
    load: async () => {
      await run(false)
    },
    refresh: () => run(true),
    set: (value: T) => {
      generation++
      loading.value = false
      error.value = null
      data.value = value
    },
    reset: () => {
      generation++
      loading.value = false
      error.value = null
      data.value = null
    },
  })
  if (options.immediate) void state.load()
  return state as AsyncContent<T>
}
