import { describe, expect, it } from 'vitest'
import { defineComponent, h, onUnmounted } from 'vue'
import { mountWith } from '@/test/mount'

let unmounted = 0
const Leaves = defineComponent({
  setup() {
    onUnmounted(() => unmounted++)
    return () => h('p', 'left mounted')
  },
})

// The two run in order: the second sees what the setup did after the first.
describe('a component a test leaves mounted', () => {
  it('is mounted while its test runs', () => {
    const { wrapper } = mountWith(Leaves)
    const other = mountWith(Leaves).wrapper
    other.unmount()
    expect(wrapper.text()).toBe('left mounted')
    expect(unmounted).toBe(1)
  })

  it('is unmounted before the next test, once', () => {
    expect(unmounted).toBe(2)
    expect(document.body.textContent).not.toContain('left mounted')
  })
})
