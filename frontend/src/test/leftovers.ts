// What the tests mounted. A test that forgets to unmount would otherwise
// leave its timers and requests running into the next test, or past the end
// of its file when the test DOM is gone; the setup unmounts what is left.
import type { VueWrapper } from '@vue/test-utils'

const mounted = new Set<VueWrapper>()

export function track(wrapper: VueWrapper): void {
  mounted.add(wrapper)
}

/** Unmounts what a test left mounted; run after each test. */
export function unmountLeftovers(): void {
  for (const w of mounted) if (!w.vm.$.isUnmounted) w.unmount()
  mounted.clear()
}
