import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

/** Longest wait for the page's first paint to be reported (a tab opened in the background reports none). */
const FIRST_PAINT_WAIT_MS = 1000

/**
 * Counts up to `steps` once the browser has painted the component as first
 * mounted, one step per task. What a screen shows below the fold renders
 * under these steps, a part per step: on a phone, mounting a whole page in
 * one task kept the main thread blocked for hundreds of milliseconds before
 * anything could answer a tap.
 *
 * On the page's first screen it waits until the first paint is on screen,
 * not only handed to the compositor: a phone rasterises on the same few
 * cores, and work started in between put the first content off.
 */
export function useStepsAfterPaint(steps: number): Readonly<Ref<number>> {
  const step = ref(0)
  let gone = false
  onBeforeUnmount(() => (gone = true))
  onMounted(() => {
    const next = () =>
      setTimeout(() => {
        if (gone) return
        step.value++
        if (step.value < steps) next()
      })
    // No frames without a screen (a test's DOM): then the next task will do.
    if (typeof requestAnimationFrame !== 'function') next()
    else if (firstPaintPending()) afterFirstPaint(next)
    else requestAnimationFrame(next)
  })
  return step
}

function firstPaintPending(): boolean {
  return (
    typeof PerformanceObserver === 'function' &&
    PerformanceObserver.supportedEntryTypes?.includes('paint') === true &&
    !performance.getEntriesByName('first-contentful-paint').length
  )
}

function afterFirstPaint(then: () => void): void {
  let called = false
  const once = () => {
    if (called) return
    called = true
    observer.disconnect()
    clearTimeout(timer)
    then()
  }
  const observer = new PerformanceObserver((list) => {
    if (list.getEntriesByName('first-contentful-paint').length) once()
  })
  observer.observe({ type: 'paint', buffered: true })
  const timer = setTimeout(once, FIRST_PAINT_WAIT_MS)
}
