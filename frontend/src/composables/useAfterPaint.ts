import { onMounted, ref, type Ref } from 'vue'

/**
 * Turns true once the browser has painted the component as first mounted.
 * What a screen shows below the fold (or in a panel hidden on a phone)
 * renders under it, in a task of its own: on a phone, mounting a whole page
 * in one task kept the main thread blocked for hundreds of milliseconds
 * before anything could answer a tap.
 */
export function useAfterPaint(): Ref<boolean> {
  const painted = ref(false)
  onMounted(() => {
    const done = () => setTimeout(() => (painted.value = true))
    // No frames without a screen (a test's DOM): then the next task will do.
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(done)
    else done()
  })
  return painted
}
