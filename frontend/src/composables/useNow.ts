import { onScopeDispose, ref } from 'vue'

/** The current time, refreshed every `every` ms (relative times stay true). */
export function useNow(every = 30_000) {
  const now = ref(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), every)
  onScopeDispose(() => clearInterval(timer), true)
  return now
}
