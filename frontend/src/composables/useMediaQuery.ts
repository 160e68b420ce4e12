import { onScopeDispose, ref } from 'vue'

/** Whether the page matches a media query now, kept up to date (a phone turned, a window resized). */
export function useMediaQuery(query: string) {
  const list = globalThis.matchMedia?.(query)
  const matches = ref(list?.matches ?? false)
  const update = (e: MediaQueryListEvent) => (matches.value = e.matches)
  list?.addEventListener?.('change', update)
  onScopeDispose(() => list?.removeEventListener?.('change', update), true)
  return matches
}

/** Below 640 px the console lays screens out for a phone (see assets/main.css). */
export const PHONE = '(max-width: 639.98px)'
