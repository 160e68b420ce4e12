// Seconds left until a moment, ticking once a second while mounted.

import { computed, onScopeDispose, ref, watch, type Ref } from 'vue'

export function useCountdown(until: Ref<string | Date | null | undefined>, now: () => number = Date.now) {
  const secondsLeft = ref(0)
  let timer: ReturnType<typeof setInterval> | undefined

  function deadline(): number | null {
    const v = until.value
    if (!v) return null
    const t = v instanceof Date ? v.getTime() : Date.parse(v)
    return Number.isNaN(t) ? null : t
  }

  function tick(): void {
    const d = deadline()
    secondsLeft.value = d === null ? 0 : Math.max(0, Math.ceil((d - now()) / 1000))
    if (secondsLeft.value === 0) stop()
  }

  function stop(): void {
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }

  watch(
    until,
    () => {
      stop()
      tick()
      if (secondsLeft.value > 0) timer = setInterval(tick, 1000)
    },
    { immediate: true },
  )
  onScopeDispose(stop, true)

  const running = computed(() => secondsLeft.value > 0)
  const expired = computed(() => deadline() !== null && secondsLeft.value === 0)
  return { secondsLeft, running, expired, stop }
}
