import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { useAfterPaint } from './useAfterPaint'

describe('useAfterPaint', () => {
  it('renders the deferred part in a later task than the first', async () => {
    const Page = defineComponent({
      setup() {
        const painted = useAfterPaint()
        return () => h('div', [h('h1', 'top'), painted.value ? h('p', 'below') : null])
      },
    })
    const wrapper = mount(Page)
    expect(wrapper.find('h1').exists()).toBe(true)
    expect(wrapper.find('p').exists()).toBe(false)
    await vi.waitFor(() => expect(wrapper.find('p').exists()).toBe(true))
  })
})
