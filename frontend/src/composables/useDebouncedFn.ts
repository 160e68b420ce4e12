import { onScopeDispose } from 'vue'

/** fn called once the calls stop for `wait` ms; flush() calls it at once. */
export function useDebouncedFn<A extends unknown[]>(fn: (...args: A) => void, wait: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let pending: A | undefined

  function cancel(): void {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    pending = undefined
  }

  function call(...args: A): void {
    if (timer !== undefined) clearTimeout(timer)
    pending = args
    timer = setTimeout(flush, wait)
  }

  function flush(): void {
    const args = pending
    cancel()
    if (args) fn(...args)
  }

  onScopeDispose(cancel, true)
  return Object.assign(call, { cancel, flush })
}
